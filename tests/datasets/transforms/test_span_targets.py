# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.transforms import GenerateSpanTargets
from mmmrhd.registry import TRANSFORMS


def test_span_targets_hand_computed():
    t = TRANSFORMS.build(dict(type='GenerateSpanTargets', max_windows=5))
    res = dict(gt_windows=np.float32([[24, 40], [0, 150]]), num_clips=75,
               clip_len=2.0)
    out = t(res)['gt_spans']
    assert out.dtype == np.float32
    # Normalised by L * clip_len = 150: [0.16, 0.2667] -> (0.2133, 0.1067).
    np.testing.assert_allclose(out, [[32 / 150, 16 / 150], [0.5, 1.0]],
                               rtol=1e-6)


def test_span_targets_use_feature_length_not_duration():
    # 60 clips x 2 s = 120 s although the video lasts 126 s.
    t = GenerateSpanTargets()
    out = t(dict(gt_windows=np.float32([[0, 60]]), num_clips=60,
                 clip_len=2.0, duration=126.0))['gt_spans']
    np.testing.assert_allclose(out, [[0.25, 0.5]])


def test_more_than_max_windows_random_subset():
    windows = np.float32([[2 * i, 2 * i + 2] for i in range(7)])
    seen = set()
    for seed in range(8):
        t = GenerateSpanTargets(max_windows=5, seed=seed)
        out = t(dict(gt_windows=windows, num_clips=10, clip_len=2.0))
        spans = out['gt_spans']
        assert spans.shape == (5, 2)
        starts = np.round((spans[:, 0] - spans[:, 1] / 2) * 20).astype(int)
        assert len(set(starts.tolist())) == 5
        assert set(starts.tolist()) <= set(range(0, 14, 2))
        seen.add(tuple(starts.tolist()))
        # Reproducible with the same seed.
        again = GenerateSpanTargets(max_windows=5, seed=seed)(
            dict(gt_windows=windows, num_clips=10, clip_len=2.0))
        np.testing.assert_array_equal(again['gt_spans'], spans)
    assert len(seen) > 1
    np.testing.assert_array_equal(out['gt_windows'], windows)  # untouched
    full = GenerateSpanTargets(max_windows=None)(
        dict(gt_windows=windows, num_clips=10, clip_len=2.0))
    assert full['gt_spans'].shape == (7, 2)


def test_no_ground_truth_is_a_no_op_and_bad_args():
    res = dict(num_clips=10, clip_len=2.0)
    assert 'gt_spans' not in GenerateSpanTargets()(res)
    with pytest.raises(ValueError, match='max_windows'):
        GenerateSpanTargets(max_windows=0)
