# Copyright (c) mmmrhd contributors. All rights reserved.
"""Video decoding: PyAV filter graph (reference), decord fast path, the
FFmpeg command line (when installed), and clear errors for bad files."""
import shutil
import subprocess

import numpy as np
import pytest

from mmmrhd.datasets.transforms import (DecodeVideoFrames, VideoDecodeError,
                                        decode_frames, probe_video)
from mmmrhd.datasets.transforms.video_decoding import (fps_filter_indices,
                                                       frame_times)
from mmmrhd.registry import TRANSFORMS

av = pytest.importorskip('av')
from mmmrhd.testing.video import (make_audio_only_file,  # noqa: E402
                                  make_test_video)

RATES = ['24000/1001', '24', '25', '30000/1001', '30', '50', '60']


def _codecs():
    codecs = ['mpeg4']
    if 'libx264' in av.codecs_available:
        codecs.append('libx264')
    return codecs


def _which_frame(frame, reference):
    """Index of the native frame ``frame`` was taken from (stripe code)."""
    return int(np.argmin([np.abs(frame.astype(int) - r.astype(int)).mean()
                          for r in reference]))


@pytest.mark.parametrize('rate', RATES)
def test_pyav_fps_filter_frame_choice(tmp_path, rate):
    """The fps filter output equals the rounding rule of
    fps_filter_indices (exact timestamps) and has round(end * fps)
    frames."""
    path = make_test_video(str(tmp_path / 'v.mp4'), fps=rate, num_frames=61)
    native = decode_frames(path, float(eval(rate)), None, None)
    assert len(native) == 61
    times, end = frame_times(path)
    for fps in (30, 1, 0.5):
        out = decode_frames(path, fps, None, None)
        expected = fps_filter_indices(times, end, fps)
        assert len(out) == len(expected) == int(np.floor(end * fps + 0.5))
        assert [_which_frame(f, native) for f in out] == expected.tolist()


def test_fps_filter_indices_hand_table():
    from fractions import Fraction as F
    # 25 fps -> 0.5 fps: frame i sits at slot round(i / 50); the last frame
    # of each slot is taken (the middle of each 2-s clip): 24, 74, 124
    times = [F(i, 25) for i in range(150)]
    assert fps_filter_indices(times, F(150, 25), 0.5).tolist() == [24, 74,
                                                                   124]
    # 60 -> 30 fps: exact ties (slot 0.5, 1.5, ...) round up, so frame 2k
    times = [F(i, 60) for i in range(8)]
    assert fps_filter_indices(times, F(8, 60), 30).tolist() == [0, 2, 4, 6]
    # 24 -> 30 fps duplicates every 4th frame
    times = [F(i, 24) for i in range(8)]
    assert fps_filter_indices(times, F(8, 24), 30).tolist() == [
        0, 1, 1, 2, 3, 4, 5, 5, 6, 7]


@pytest.mark.parametrize('codec', _codecs())
@pytest.mark.parametrize('rate', ['24', '30000/1001', '60'])
def test_decord_matches_pyav(tmp_path, rate, codec):
    pytest.importorskip('decord')
    path = make_test_video(str(tmp_path / 'v.mp4'), fps=rate, num_frames=45,
                           width=96, height=64, codec=codec)
    for fps in (30, 1):
        # full resolution: same frames, same pixels (mpeg4 differs by the
        # last bit of the YUV->RGB rounding)
        ref = decode_frames(path, fps, None, None, 'pyav')
        fast = decode_frames(path, fps, None, None, 'decord')
        assert fast.shape == ref.shape
        assert np.abs(fast.astype(int) - ref.astype(int)).max() <= 2
        # resized: OpenCV cubic on RGB vs swscale bicubic on YUV: close,
        # not bitwise (mean 4.9 levels measured on this high-contrast
        # synthetic pattern)
        ref = decode_frames(path, fps, 48, 48, 'pyav')
        fast = decode_frames(path, fps, 48, 48, 'decord')
        assert ref.shape == fast.shape == (len(ref), 48, 48, 3)
        assert np.abs(fast.astype(float) - ref.astype(float)).mean() < 6


def test_geometry_of_decoded_frames(tmp_path):
    path = make_test_video(str(tmp_path / 'v.mp4'), num_frames=4, width=96,
                           height=64)
    frames = decode_frames(path, 30, 48, None)
    assert frames.shape == (4, 48, 72, 3) and frames.dtype == np.uint8
    frames = decode_frames(path, 30, 48, 40)
    assert frames.shape == (4, 40, 40, 3)
    # the crop is centred: offsets x=int((72-40)/2)=16, y=4
    full = decode_frames(path, 30, 48, None)
    assert np.array_equal(frames, full[:, 4:44, 16:56])
    with pytest.raises(VideoDecodeError, match='larger than'):
        decode_frames(path, 30, 48, 64)


def test_probe_video(tmp_path):
    path = make_test_video(str(tmp_path / 'v.mp4'), fps='30000/1001',
                           num_frames=30)
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (96, 64, 30)
    assert info.avg_fps == pytest.approx(29.97, abs=1e-3)
    assert info.duration == pytest.approx(30 * 1001 / 30000, abs=1e-3)


def test_bad_videos_give_clear_errors(tmp_path):
    with pytest.raises(VideoDecodeError, match='not found: .*missing.mp4'):
        probe_video(str(tmp_path / 'missing.mp4'))
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    with pytest.raises(VideoDecodeError, match='empty.*empty.mp4'):
        probe_video(str(empty))
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(VideoDecodeError, match='junk.mp4'):
        decode_frames(str(junk), 30)
    audio = make_audio_only_file(str(tmp_path / 'audio.m4a'))
    with pytest.raises(VideoDecodeError, match='no video stream.*audio'):
        probe_video(audio)
    with pytest.raises(ValueError, match='backend'):
        decode_frames(audio, 30, backend='ffmpeg')


def test_too_short_for_the_rate(tmp_path):
    # 0.75 s at 0.5 fps: the fps filter emits round(0.375) = 0 frames
    path = make_test_video(str(tmp_path / 'v.mp4'), fps=60, num_frames=45)
    for backend in ('pyav', 'decord'):
        if backend == 'decord':
            pytest.importorskip('decord')
        with pytest.raises(VideoDecodeError, match='45 frame.*kept none'):
            decode_frames(path, 0.5, None, None, backend)


def test_truncated_video_is_an_error_or_shorter(tmp_path):
    path = make_test_video(str(tmp_path / 'v.mp4'), num_frames=30)
    data = (tmp_path / 'v.mp4').read_bytes()
    cut = tmp_path / 'cut.mp4'
    cut.write_bytes(data[:len(data) // 3])
    with pytest.raises(VideoDecodeError, match='cut.mp4'):
        decode_frames(str(cut), 30)


def test_decode_transform(tmp_path):
    path = make_test_video(str(tmp_path / 'v.mp4'), num_frames=10)
    t = TRANSFORMS.build(dict(type='DecodeVideoFrames', fps=30,
                              short_side=48, crop_size=48))
    out = t(dict(filename=path))
    assert out['imgs'].shape == (10, 48, 48, 3)
    assert out['video_info'].num_frames == 10 and out['frame_rate'] == 30
    assert 'backend' in repr(t)
    with pytest.raises(ValueError, match='fps'):
        DecodeVideoFrames(fps=0)


@pytest.mark.skipif(shutil.which('ffmpeg') is None,
                    reason='ffmpeg command line not installed')
@pytest.mark.parametrize('fps', [30, 0.5])
def test_pyav_graph_equals_ffmpeg_cli(tmp_path, fps):
    """HERO's command line: fps -> scale -> crop, rawvideo rgb24."""
    path = make_test_video(str(tmp_path / 'v.mp4'), fps='30000/1001',
                           num_frames=90, width=160, height=96)
    ours = decode_frames(path, fps, 64, 64)
    # HERO: scale=int(w*64/h):64 -> 106x64, crop=64:64:21:0
    cmd = ['ffmpeg', '-v', 'error', '-i', path, '-vf',
           f'fps=fps={fps},scale=106:64,crop=64:64:21:0', '-f', 'rawvideo',
           '-pix_fmt', 'rgb24', 'pipe:']
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    cli = np.frombuffer(raw, np.uint8).reshape(-1, 64, 64, 3)
    assert np.array_equal(ours, cli)
