# Copyright (c) mmmrhd contributors. All rights reserved.
"""HERO frame geometry and clip sampling: hand-derived tables."""
import math

import numpy as np
import pytest

from mmmrhd.datasets.transforms.video_sampling import (
    group_clip_indices, hero_clip_frame_rate, hero_crop_offsets,
    hero_fast_frame_indices, hero_num_clips, hero_scale_size,
    slow_frame_indices)

# Fast-pathway indices of one 2-s clip (60 frames at 30 fps) per source
# frame rate: linspace(0, 64 * floor(fps) / 30 - 1, 32), clamped to 59,
# truncated. Derived by hand from the step 64*floor(fps)/30/31 - 1/31.
TABLE_2S = {
    23.976: [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 17, 18, 20, 21, 23, 24,
             26, 27, 29, 31, 32, 34, 35, 37, 38, 40, 41, 43, 44, 46, 48],
    24: [0, 1, 3, 4, 6, 8, 9, 11, 12, 14, 16, 17, 19, 21, 22, 24, 25, 27,
         29, 30, 32, 34, 35, 37, 38, 40, 42, 43, 45, 46, 48, 50],
    25: [0, 1, 3, 5, 6, 8, 10, 11, 13, 15, 16, 18, 20, 21, 23, 25, 27, 28,
         30, 32, 33, 35, 37, 38, 40, 42, 43, 45, 47, 48, 50, 52],
    29.97: [0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
            33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 54, 56, 58, 59],
    30: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34,
         36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 59, 59],
    50: [0, 3, 6, 10, 13, 17, 20, 23, 27, 30, 34, 37, 40, 44, 47, 51, 54,
         57] + [59] * 14,
    60: [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 45, 49, 53, 57] + [59] * 17,
}
# 1-s clips (30 frames, Charades-STA "SF" at 1 clip/s) with the same
# 32 x 2 sampling: the same ramp clamped to 29.
TABLE_1S = {fps: [min(i, 29) for i in row] for fps, row in TABLE_2S.items()}


@pytest.mark.parametrize('fps', sorted(TABLE_2S))
@pytest.mark.parametrize('clip_len', [1, 2])
def test_fast_frame_index_tables(fps, clip_len):
    table = TABLE_2S if clip_len == 2 else TABLE_1S
    got = hero_fast_frame_indices(fps, clip_frames=30 * clip_len)
    assert got.dtype == np.int64
    assert got.tolist() == table[fps]
    # independent float64 formula agrees (no float32 truncation surprise)
    end = 64 * math.floor(fps) / 30 - 1
    ref = np.floor(np.minimum(np.arange(32) * end / 31, 30 * clip_len - 1))
    assert got.tolist() == ref.astype(int).tolist()


def test_clamped_duplicates_and_coverage():
    """research/raw_video.md: 2 / 14 / 17 clamped frames at 30 / 50 / 60
    fps; at 24 fps the 32 frames reach frame 50 (1.7 of 2 s)."""
    for fps, clamped in ((30, 2), (50, 14), (60, 17)):
        end = 64 * fps / 30 - 1
        raw = np.arange(32) * end / 31
        assert int((raw > 59).sum()) == clamped
        assert hero_fast_frame_indices(fps).tolist().count(59) == (
            clamped if fps != 30 else 2)
    assert hero_fast_frame_indices(24).max() == 50


def test_fast_indices_reject_bad_rate():
    for bad in (0, -1, float('nan'), None):
        with pytest.raises(ValueError, match='frame rate'):
            hero_fast_frame_indices(bad)


def test_slow_indices():
    assert slow_frame_indices(32, 4).tolist() == [0, 4, 8, 13, 17, 22, 26, 31]
    assert slow_frame_indices(16, 4).tolist() == [0, 5, 10, 15]


def test_scale_and_crop_geometry():
    # landscape: short side 224, long side truncated (640*224/360=398.2)
    assert hero_scale_size(360, 640, 224) == (224, 398)
    assert hero_scale_size(1080, 1920, 224) == (224, 398)
    assert hero_scale_size(640, 360, 224) == (398, 224)  # portrait
    assert hero_scale_size(224, 224, 224) == (224, 224)
    assert hero_crop_offsets(224, 398, 224) == (87, 0)
    assert hero_crop_offsets(399, 224, 224) == (0, 87)
    with pytest.raises(ValueError):
        hero_scale_size(0, 10, 224)


def test_group_clip_indices_pads_frames_then_seconds():
    # 130 frames at 30 fps = 4.33 s: frames padded to 150 with frame 129,
    # 5 seconds padded to 6 by repeating the last second (frames 120-149).
    clips = group_clip_indices(130, 30, 2, duration=None)
    assert clips.shape == (3, 60)
    assert clips[0].tolist() == list(range(60))
    assert clips[1].tolist() == list(range(60, 120))
    last_second = list(range(120, 130)) + [129] * 20
    assert clips[2].tolist() == last_second + last_second
    # ceil(4.33 / 2) = 3 clips are kept; a 3.9-s duration keeps 2
    assert len(group_clip_indices(130, 30, 2, 130 / 30)) == 3
    assert len(group_clip_indices(130, 30, 2, 3.9)) == 2
    # 1-s clips: one clip per (padded) second
    one = group_clip_indices(130, 30, 1, 130 / 30)
    assert one.shape == (5, 30)
    assert one[4].tolist() == last_second


def test_group_clip_indices_errors():
    with pytest.raises(ValueError, match='no frames'):
        group_clip_indices(0, 30, 2, None)
    with pytest.raises(ValueError, match='whole number'):
        group_clip_indices(10, 30, 1.5, None)


def test_num_clips_and_clip_frame_rate():
    assert hero_num_clips(150.0, 2) == 75
    assert hero_num_clips(126.5, 2) == 64
    assert hero_num_clips(None, 2) is None
    assert hero_num_clips(-1, 2) is None
    assert hero_clip_frame_rate(150.0, 2) == 0.5
    assert hero_clip_frame_rate(10.0, 1) == 1.0
    # shorter than clip_len + 0.1 s: 2 / max(int(duration), 1)
    assert hero_clip_frame_rate(1.5, 2) == 2.0
    assert hero_clip_frame_rate(2.05, 2) == 1.0
    assert hero_clip_frame_rate(None, 2) == 0.5
