# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.transforms import GeneratePositiveClipMask
from mmmrhd.registry import TRANSFORMS


def sample(ids, num_clips, agg=None):
    out = dict(qid=7, vid='v', saliency_clip_ids=np.asarray(ids),
               num_clips=num_clips)
    if agg is not None:
        out['saliency_agg'] = np.asarray(agg, dtype=np.float64)
    return out


def test_relevant_clips():
    t = TRANSFORMS.build(dict(type='GeneratePositiveClipMask'))
    out = t(sample([1, 2, 5], 6))
    np.testing.assert_array_equal(out['pos_mask'], [0, 1, 1, 0, 0, 1])
    assert out['pos_mask'].dtype == np.float32


def test_overflow_dropped_or_official_bug():
    # id 6 == L: dropped by default
    out = GeneratePositiveClipMask()(sample([1, 2, 6], 6))
    np.testing.assert_array_equal(out['pos_mask'], [0, 1, 1, 0, 0, 0])
    # official: rebuilt with length 7, the zero mask copied over the first
    # 6 entries, so only the overflow slot stays 1 (quirk 16)
    out = GeneratePositiveClipMask(official_compat=True)(sample([1, 2, 6], 6))
    np.testing.assert_array_equal(out['pos_mask'], [0, 0, 0, 0, 0, 0, 1])


def test_top_half_tvsum():
    # L = 5: the 5 - 5 // 2 = 3 clips with the highest agg; the tie (2.0 at
    # clips 1 and 3) keeps file order, so clip 3 (later) ranks higher
    agg = [4.0, 2.0, 0.0, 2.0, 1.0]
    t = GeneratePositiveClipMask(mode='top_half')
    out = t(sample(np.arange(5), 5, agg))
    np.testing.assert_array_equal(out['pos_mask'], [1, 1, 0, 1, 0])
    # labels beyond the features are ignored
    out = t(sample(np.arange(6), 4, [0.0, 3.0, 1.0, 2.0, 9.0, 9.0]))
    np.testing.assert_array_equal(out['pos_mask'], [0, 1, 0, 1])


def test_from_saliency_labels():
    t = GeneratePositiveClipMask(mode='saliency_labels')
    out = t(dict(num_clips=5, saliency_all_labels=np.array(
        [0, 1, 1, 0, 0, 1], dtype=np.float32)))  # grown label slot ignored
    np.testing.assert_array_equal(out['pos_mask'], [0, 1, 1, 0, 0])
    assert 'pos_mask' not in t(dict(num_clips=5))


def test_noop_and_errors():
    t = GeneratePositiveClipMask()
    assert 'pos_mask' not in t(dict(num_clips=4))
    with pytest.raises(ValueError, match='mode must be one of'):
        GeneratePositiveClipMask(mode='half')
    with pytest.raises(KeyError, match="no 'saliency_agg'"):
        GeneratePositiveClipMask(mode='top_half')(sample([0, 1], 2))
    assert 'top_half' in repr(GeneratePositiveClipMask(mode='top_half'))
