# Copyright (c) mmmrhd contributors. All rights reserved.
"""HERO-exact frame geometry and clip sampling (pure functions).

The released QVHighlights / Charades-STA SlowFast and CLIP features come
from linjieli222/HERO_Video_Feature_Extractor. Every rule below names the
HERO file it reproduces; the quirks (frame rate floored, indices computed
for the *native* rate although frames were resampled, float32 ``linspace``
truncated to int) are kept on purpose, since they decide which frames enter
each clip.
"""
import math
from typing import Optional, Tuple

import numpy as np
import torch

__all__ = [
    'hero_scale_size', 'hero_crop_offsets', 'hero_fast_frame_indices',
    'slow_frame_indices', 'group_clip_indices', 'hero_num_clips',
    'hero_clip_frame_rate'
]


def hero_scale_size(height: int, width: int, size: int) -> Tuple[int, int]:
    """Output ``(height, width)`` of the short-side-``size`` resize.

    HERO ``video_loader.py`` ``_get_output_dim``: the short side becomes
    ``size``, the long side ``int(long * size / short)`` (truncated, not
    rounded to even).
    """
    if height <= 0 or width <= 0:
        raise ValueError(f'invalid frame size {width}x{height}')
    if height >= width:
        return int(height * size / width), size
    return size, int(width * size / height)


def hero_crop_offsets(height: int, width: int, size: int) -> Tuple[int, int]:
    """``(x, y)`` of the centre crop: ``int((dim - size) / 2.0)`` (HERO)."""
    return int((width - size) / 2.0), int((height - size) / 2.0)


def hero_fast_frame_indices(native_fps: float,
                            clip_frames: int = 60,
                            num_frames: int = 32,
                            sampling_rate: int = 2,
                            target_fps: int = 30) -> np.ndarray:
    """Indices (within one clip) of the fast-pathway frames.

    HERO ``preprocessing.py`` (``get_start_end_idx`` with ``clip_idx=0``,
    ``temporal_sampling``): ``linspace(0, num_frames * sampling_rate *
    fps / target_fps - 1, num_frames)`` in float32, clamped to
    ``[0, clip_frames - 1]`` and truncated to int64, where ``fps`` is
    ``floor(avg_frame_rate)`` of the *source* video (``video_loader.py``
    ``_get_video_info``) even though the frames were already resampled to
    ``target_fps``.

    Args:
        native_fps (float): ``avg_frame_rate`` of the source video
            (floored here, e.g. 29.97 -> 29).
        clip_frames (int): Frames per clip after resampling
            (``clip_len * target_fps``; 60 for 2-s clips at 30 fps).
        num_frames (int): Fast-pathway frames (``DATA.NUM_FRAMES`` 32).
        sampling_rate (int): ``DATA.SAMPLING_RATE`` (2).
        target_fps (int): Decoding rate (30).

    Returns:
        np.ndarray: int64 ``(num_frames,)``.
    """
    if not native_fps or native_fps <= 0 or not math.isfinite(native_fps):
        raise ValueError(f'invalid native frame rate {native_fps!r}')
    fps = math.floor(native_fps)
    end = num_frames * sampling_rate * fps / target_fps - 1
    # start_idx = delta * 0 / 1 = 0 (clip_idx=0, num_clips=1)
    index = torch.linspace(0, end, num_frames)
    index = torch.clamp(index, 0, clip_frames - 1).long()
    return index.numpy()


def slow_frame_indices(num_fast: int = 32, alpha: int = 4) -> np.ndarray:
    """Slow-pathway indices into the fast frames.

    PySlowFast / HERO ``pack_pathway_output``: ``linspace(0, T - 1,
    T // alpha).long()`` -> ``[0, 4, 8, 13, 17, 22, 26, 31]`` for T=32.
    """
    return torch.linspace(0, num_fast - 1, num_fast // alpha).long().numpy()


def hero_num_clips(duration: Optional[float],
                   clip_len: float) -> Optional[int]:
    """``ceil(duration / clip_len)``; None when the duration is unknown
    (HERO keeps every padded clip then)."""
    if duration is None or duration <= 0:
        return None
    return int(math.ceil(duration / clip_len))


def group_clip_indices(num_frames: int, target_fps: int, clip_len: int,
                       duration: Optional[float]) -> np.ndarray:
    """Frame indices of each clip, grouped the HERO way.

    HERO ``Preprocessing.__call__`` ('3d'): pad the frames to a multiple of
    ``target_fps`` by repeating the last frame (``_pad_frames``), view them
    as seconds, pad the seconds to a multiple of ``clip_len`` by repeating
    the last *second* (``_pad_clips``, mode 'tile'), view as clips of
    ``clip_len * target_fps`` frames and keep the first
    ``ceil(duration / clip_len)`` clips when the duration is known.
    Indices instead of frame copies: the padding costs no memory.

    Args:
        num_frames (int): Number of frames decoded at ``target_fps``.
        target_fps (int): Frames per second of the decoded frames.
        clip_len (int): Seconds per clip (2 QVHighlights, 1 Charades-STA).
        duration (float, optional): Stream duration in seconds.

    Returns:
        np.ndarray: int64 ``(num_clips, clip_len * target_fps)``.
    """
    if num_frames <= 0:
        raise ValueError('no frames to group into clips')
    if int(clip_len) != clip_len or clip_len < 1:
        raise ValueError(f'clip_len must be a whole number of seconds, got '
                         f'{clip_len}')
    clip_len = int(clip_len)
    frames = np.arange(num_frames)
    pad = (-num_frames) % target_fps
    frames = np.concatenate([frames, np.full(pad, num_frames - 1)])
    seconds = frames.reshape(-1, target_fps)
    pad = (-len(seconds)) % clip_len
    if pad:
        seconds = np.concatenate([seconds, np.repeat(seconds[-1:], pad, 0)])
    clips = seconds.reshape(-1, clip_len * target_fps).astype(np.int64)
    num_clips = hero_num_clips(duration, clip_len)
    return clips[:num_clips] if num_clips is not None else clips


def hero_clip_frame_rate(duration: Optional[float], clip_len: float) -> float:
    """Frame rate of the CLIP stream's ``fps`` filter.

    HERO ``clip/video_loader.py``: ``1 / clip_len``, except for videos
    shorter than ``clip_len + 0.1`` s, which use ``2 / max(int(duration),
    1)``.
    """
    fps = 1.0 / clip_len
    if duration is not None and 0 < duration < 1 / fps + 0.1:
        fps = 2 / max(int(duration), 1)
    return fps
