# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.transforms import GenerateWindowSaliencyLabels
from mmmrhd.registry import TRANSFORMS


def sample(window, duration=30.0, num_clips=15):
    return dict(qid=1, gt_windows=np.float32([window]), duration=duration,
                num_clips=num_clips)


def test_window_labels_hand_computed():
    # c = 30 / 15 = 2 s: [4.5, 11] -> clips int(2.25) = 2 .. int(5.5) - 1 = 4
    pos, neg = set(), set()
    for seed in range(20):
        t = TRANSFORMS.build(
            dict(type='GenerateWindowSaliencyLabels', seed=seed))
        out = t(sample([4.5, 11]))
        np.testing.assert_array_equal(
            out['saliency_all_labels'],
            [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        p, n = out['saliency_pos_labels'], out['saliency_neg_labels']
        assert p.dtype == np.int64 and p.shape == (2, ) and n.shape == (2, )
        assert p[0] != p[1] and n[0] != n[1]
        pos.update(p.tolist())
        neg.update(n.tolist())
    assert pos == {2, 3, 4}
    assert neg <= set(range(15)) - {2, 3, 4} and len(neg) > 4


def test_clip_length_comes_from_duration_over_length():
    # 75 clips over 150 s: c = 2 s, although clip_len may say 1 s:
    # [10, 20] -> clips int(10 / 2) = 5 .. min(int(20 / 2), 75) - 1 = 9.
    out = GenerateWindowSaliencyLabels(seed=0)(
        sample([10, 20], duration=150.0, num_clips=75))
    assert np.nonzero(out['saliency_all_labels'])[0].tolist() == list(
        range(5, 10))


def test_degenerate_windows():
    t = GenerateWindowSaliencyLabels(seed=0)
    # One clip: st = 2 > ed = 1 -> st = ed = 1; the positive is repeated.
    out = t(sample([4, 3.9 + 2]))
    assert out['saliency_pos_labels'].tolist() == [1, 1]
    assert np.nonzero(out['saliency_all_labels'])[0].tolist() == [1]
    # Window at the very end: st = 15 -> clamped to ed = 14.
    out = t(sample([30, 30]))
    assert out['saliency_pos_labels'].tolist() == [14, 14]
    # Whole video: no clip outside, the positives are reused.
    out = t(sample([0, 30]))
    assert (out['saliency_all_labels'] == 1).all()
    np.testing.assert_array_equal(out['saliency_neg_labels'],
                                  out['saliency_pos_labels'])


def test_only_first_window_no_op_and_errors():
    t = GenerateWindowSaliencyLabels(seed=0)
    res = dict(qid=1, gt_windows=np.float32([[0, 4], [20, 30]]),
               duration=30.0, num_clips=15)
    assert np.nonzero(t(res)['saliency_all_labels'])[0].tolist() == [0, 1]
    assert 'saliency_all_labels' not in t(dict(num_clips=3, duration=6.0))
    with pytest.raises(ValueError, match='covers 2 clips, fewer than '
                       'num_pairs=3'):
        GenerateWindowSaliencyLabels(num_pairs=3)(sample([0, 4]))
    with pytest.raises(ValueError, match='num_pairs'):
        GenerateWindowSaliencyLabels(num_pairs=0)
