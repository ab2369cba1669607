# Copyright (c) mmmrhd contributors. All rights reserved.
"""Generate small test videos with PyAV's encoder (no files shipped)."""
from fractions import Fraction
from typing import Union

import numpy as np

__all__ = ['make_test_video', 'make_audio_only_file']


def make_test_video(path: str,
                    fps: Union[float, Fraction, str] = 30,
                    num_frames: int = 60,
                    width: int = 96,
                    height: int = 64,
                    codec: str = 'mpeg4',
                    seed: int = 0) -> str:
    """Write a video whose frames are smooth moving colour gradients.

    Every frame differs (a moving ramp plus a frame-number stripe), so a
    wrong frame choice shows up in the decoded pixels.

    Args:
        path (str): Output file (``.mp4``, ``.avi``, ``.mkv``).
        fps (float | Fraction | str): Frame rate, e.g. ``'30000/1001'``.
        num_frames (int): Number of frames.
        width (int): Frame width (even).
        height (int): Frame height (even).
        codec (str): Encoder (``mpeg4``; ``libx264`` if bundled).
        seed (int): Seed of the colour offsets.

    Returns:
        str: ``path``.
    """
    import av
    rate = Fraction(fps).limit_denominator(1001) if not isinstance(
        fps, Fraction) else fps
    if isinstance(fps, str):
        rate = Fraction(fps)
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 255, size=3)
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(path, mode='w') as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = 'yuv420p'
        stream.options = {'qscale': '3'} if codec == 'mpeg4' else {}
        for i in range(num_frames):
            img = np.empty((height, width, 3), np.uint8)
            for c in range(3):
                img[..., c] = (xx * (c + 1) * 2 + yy * 3 + i * 7 +
                               offsets[c]) % 256
            img[:4, :] = (i * 37) % 256  # frame-number stripe
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_audio_only_file(path: str, seconds: float = 1.0) -> str:
    """Write an audio-only file (a sine tone), e.g. ``.m4a`` / ``.mp4``."""
    import av
    rate = 16000
    with av.open(path, mode='w') as container:
        stream = container.add_stream('aac', rate=rate)
        stream.layout = 'mono'
        n = int(seconds * rate)
        t = np.arange(n) / rate
        samples = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        frame_size = 1024
        for start in range(0, n, frame_size):
            chunk = samples[start:start + frame_size]
            if len(chunk) < frame_size:
                chunk = np.pad(chunk, (0, frame_size - len(chunk)))
            frame = av.AudioFrame.from_ndarray(
                chunk[None], format='fltp', layout='mono')
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
