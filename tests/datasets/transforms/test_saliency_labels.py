# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.transforms import GenerateSaliencyLabels
from mmmrhd.registry import TRANSFORMS


def sample(ids, agg, num_clips, qid=1):
    return dict(qid=qid, vid='v', saliency_clip_ids=np.asarray(ids),
                saliency_agg=np.asarray(agg, dtype=np.float64),
                num_clips=num_clips)


def test_hard_pair_stable_ties_and_all_labels():
    t = TRANSFORMS.build(dict(type='GenerateSaliencyLabels', seed=0))
    out = t(sample([5, 6, 7, 9], [3, 12, 3, 12], 10))
    # Ties: hard pos = LAST id with the max (9), hard neg = FIRST with the
    # min (5).
    assert out['saliency_pos_labels'][0] == 9
    assert out['saliency_neg_labels'][0] == 5
    np.testing.assert_array_equal(out['saliency_all_labels'],
                                  [0, 0, 0, 0, 0, 3, 12, 3, 0, 12])
    assert out['saliency_all_labels'].dtype == np.float32
    assert out['saliency_pos_labels'].dtype == np.int64
    assert out['saliency_pos_labels'].shape == (2, )


def test_easy_pairs_are_valid_and_random():
    ids = [2, 3, 4, 8]
    pos, neg = set(), set()
    for seed in range(100):
        out = GenerateSaliencyLabels(seed=seed)(
            sample(ids, [1, 2, 3, 4], 10))
        assert out['saliency_pos_labels'][0] == 8
        assert out['saliency_neg_labels'][0] == 2
        pos.add(int(out['saliency_pos_labels'][1]))
        neg.add(int(out['saliency_neg_labels'][1]))
    assert pos == set(ids)  # every relevant clip gets drawn
    assert neg == {0, 1, 5, 6, 7, 9}  # exactly the clips outside


def test_no_easy_negative_copies_the_hard_pair():
    out = GenerateSaliencyLabels(seed=0)(
        sample([0, 1, 2, 3], [5, 1, 9, 1], 4))
    assert out['saliency_pos_labels'].tolist() == [2, 2]
    assert out['saliency_neg_labels'].tolist() == [1, 1]


def test_one_id_equal_to_length_grows_the_labels():
    out = GenerateSaliencyLabels(seed=0)(sample([3, 10], [4, 7], 10))
    labels = out['saliency_all_labels']
    assert labels.shape == (11, )
    assert labels[10] == 7 and labels[3] == 4
    assert out['saliency_pos_labels'][0] == 9  # min(10, L - 1)
    assert (out['saliency_pos_labels'] <= 9).all()


@pytest.mark.parametrize('ids', [[3, 11], [9, 10, 11], [10, 10 + 1]])
def test_ids_beyond_the_video_are_an_error(ids):
    with pytest.raises(ValueError, match=r"qid 7 \(vid 'v'\): relevant clip "
                       r'ids \[.*\] are >= the 10 feature clips'):
        GenerateSaliencyLabels()(sample(ids, [1] * len(ids), 10, qid=7))


def test_drop_overflow_and_no_easy_pairs_tvsum_style():
    agg = np.array([0, 12, 4.5, 3, 12, 0, 1, 2, 11, 0, 12.5, 0.0])
    t = GenerateSaliencyLabels(add_easy=False, overflow='drop')
    out = t(sample(np.arange(12), agg, 10))
    np.testing.assert_array_equal(out['saliency_all_labels'],
                                  agg[:10].astype(np.float32))
    assert out['saliency_pos_labels'].tolist() == [4]  # last of the 12s
    assert out['saliency_neg_labels'].tolist() == [0]  # first of the 0s
    # Labels shorter than the video are zero-padded to L.
    short = t(sample(np.arange(3), [2, 1, 3], 5))
    np.testing.assert_array_equal(short['saliency_all_labels'],
                                  [2, 1, 3, 0, 0])
    with pytest.raises(ValueError, match='every labelled clip is beyond'):
        t(sample([6, 7], [1, 2], 5))


def test_num_pairs_two():
    t = GenerateSaliencyLabels(num_pairs=2, seed=1)
    out = t(sample([1, 2, 3, 4], [1, 4, 2, 3], 8))
    assert out['saliency_pos_labels'][:2].tolist() == [4, 2]
    assert out['saliency_neg_labels'][:2].tolist() == [1, 3]
    assert set(out['saliency_pos_labels'][2:].tolist()) <= {1, 2, 3, 4}
    assert len(set(out['saliency_neg_labels'][2:].tolist())) == 2
    with pytest.raises(ValueError, match='fewer than num_pairs=2'):
        t(sample([1], [1], 8))


def test_no_op_without_ground_truth_and_bad_args():
    assert 'saliency_all_labels' not in GenerateSaliencyLabels()(
        dict(num_clips=4))
    with pytest.raises(ValueError, match='num_pairs'):
        GenerateSaliencyLabels(num_pairs=0)
    with pytest.raises(ValueError, match="overflow must be 'grow' or 'drop'"):
        GenerateSaliencyLabels(overflow='clip')
