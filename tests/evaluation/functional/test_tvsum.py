# Copyright (c) mmmrhd contributors. All rights reserved.
"""TVSum top-5 mAP."""
import os.path as osp

import numpy as np
import pytest

from mmmrhd.evaluation.functional import (SubmissionError, SubmissionWarning,
                                          evaluate_tvsum, load_jsonl,
                                          reference_tvsum_top5_ap,
                                          tvsum_domain_map, tvsum_top5_ap)


def _one(pred, column):
    labels = np.asarray(column, dtype=float)[:, None]
    ours = tvsum_top5_ap(np.asarray(pred, dtype=float), labels)
    np.testing.assert_array_equal(
        ours, reference_tvsum_top5_ap(np.asarray(pred, dtype=float), labels))
    return float(ours[0])


def test_worked_example_of_the_readme():
    # Lower median of [1,1,1,1,1,5,5] is 1: the 5s are positive. Ranked
    # clips 0..4 have labels [1,0,1,0,0]:
    # 0.5*(1+1)/2 + 0.5*(0.5+2/3)/2 = 0.7917
    ap = _one([.9, .8, .7, .6, .5, .4, .3], [5, 1, 5, 1, 1, 1, 1])
    assert ap == pytest.approx(0.5 + 0.5 * (0.5 + 2 / 3) / 2)
    assert round(ap, 4) == 0.7917


def test_all_and_no_positives_in_top5():
    # 11 clips: lower median (6th smallest) is 1, so the five 5s are
    # positive.
    column = [5] * 5 + [1] * 6
    assert _one(list(range(11, 0, -1)), column) == 1.
    assert _one(list(range(11)), column[::-1]) == 1.
    assert _one([0] * 5 + [9] * 6, column) == 0.
    # Ties with the median are negative (strict ">"): 7 clips, lower
    # median is the 4th smallest, a 5, so nothing is positive.
    assert _one(list(range(7, 0, -1)), [5] * 5 + [1] * 2) == 0.


def test_lower_median_and_strict_greater():
    # Even count [1, 2, 3, 4]: lower median 2 -> positives 3 and 4.
    assert _one([4, 3, 2, 1], [4, 3, 2, 1]) == 1.  # top2 pos, then neg
    # Only two of the top-5 are positive, at ranks 3 and 4.
    ap = _one([4, 3, 2, 1], [1, 2, 3, 4])
    expected = 0.5 * (0 + 1 / 3) / 2 + 0.5 * (1 / 3 + 2 / 4) / 2
    assert ap == pytest.approx(expected)


def test_ties_use_a_stable_descending_order():
    # All scores equal: the first five clips are the top 5.
    assert _one([1.] * 11, [5] * 5 + [1] * 6) == 1.
    assert _one([1.] * 11, [1] * 6 + [5] * 5) == 0.


def test_short_predictions_rank_only_scored_clips():
    # 7 clips (positives 0, 2, 6), 3 scores: only clips 0..2 can be
    # ranked: clip 2, 1, 0 -> labels [1, 0, 1].
    ap = _one([.1, .2, .3], [5, 1, 5, 1, 1, 1, 5])
    assert ap == pytest.approx(0.5 * (1 + 1) / 2 + 0.5 * (0.5 + 2 / 3) / 2)


def test_domain_map_is_mean_over_videos_and_annotators():
    rng = np.random.default_rng(0)
    labels = [rng.integers(1, 6, (30, 20)).astype(float) for _ in range(3)]
    preds = [rng.random(30) for _ in range(3)]
    expected = np.mean(
        [reference_tvsum_top5_ap(p, y) for p, y in zip(preds, labels)])
    assert tvsum_domain_map(preds, labels) == pytest.approx(expected)


@pytest.fixture(scope='module')
def tvsum_val(data_dir):
    return load_jsonl(osp.join(data_dir, 'tvsum', 'tvsum_val.jsonl'))


def _oracle(records):
    return [
        dict(qid=r['qid'],
             vid=r['vid'],
             pred_saliency_scores=np.mean(r['label'], axis=1).tolist())
        for r in records
    ]


def test_evaluate_tvsum_on_val(tvsum_val):
    res = evaluate_tvsum(_oracle(tvsum_val), tvsum_val)
    assert list(res) == ['brief']
    brief = res['brief']
    domains = sorted(r['domain'] for r in tvsum_val)
    assert list(brief) == [f'{d}-mAP' for d in domains] + ['mAP']
    unrounded = {}
    for r in tvsum_val:
        unrounded[r['domain']] = np.mean(
            reference_tvsum_top5_ap(np.mean(r['label'], axis=1),
                                    np.array(r['label'])))
        assert brief[f'{r["domain"]}-mAP'] == round(unrounded[r['domain']], 5)
    assert brief['mAP'] == round(np.mean([unrounded[d] for d in domains]), 5)
    assert 0.5 < brief['mAP'] < 1  # the mean-label oracle is good
    # One domain (one model per domain): mAP equals the domain's value.
    one = evaluate_tvsum(_oracle(tvsum_val[:1]), tvsum_val)['brief']
    assert list(one) == [f'{tvsum_val[0]["domain"]}-mAP', 'mAP']
    assert one['mAP'] == brief[f'{tvsum_val[0]["domain"]}-mAP']


def test_evaluate_tvsum_errors(tvsum_val):
    sub = _oracle(tvsum_val)
    with pytest.raises(SubmissionError, match='no prediction records'):
        evaluate_tvsum([], tvsum_val)
    with pytest.raises(SubmissionError, match="not in ground truth.*'nope'"):
        evaluate_tvsum(sub + [dict(qid='nope', pred_saliency_scores=[1.])],
                       tvsum_val)
    with pytest.raises(SubmissionError, match='duplicate qid'):
        evaluate_tvsum(sub + sub[:1], tvsum_val)
    with pytest.raises(SubmissionError, match="'pred_saliency_scores'"):
        evaluate_tvsum([dict(qid=tvsum_val[0]['qid'])], tvsum_val)
    gt = [dict(r) for r in tvsum_val]
    gt.append(dict(gt[0], qid='other', vid='other'))  # 2nd video, 1 domain
    with pytest.raises(SubmissionError, match="missing.*'other'"):
        evaluate_tvsum(sub, gt)
    bad = [dict(r) for r in tvsum_val]
    bad[0] = dict(bad[0], label=[[1., 'x']])
    with pytest.raises(SubmissionError, match='label'):
        evaluate_tvsum(sub, bad)
    no_domain = [dict(r) for r in tvsum_val]
    del no_domain[3]['domain']
    with pytest.raises(SubmissionError, match="'domain' is missing"):
        evaluate_tvsum(sub, no_domain)
    ints = [dict(qid=i, pred_saliency_scores=[1.]) for i in range(2)]
    int_gt = [
        dict(qid=str(i), domain='X', label=[[1.], [2.]]) for i in range(2)
    ]
    with pytest.raises(SubmissionError, match='qid types differ'):
        evaluate_tvsum(ints, int_gt)


def test_evaluate_tvsum_short_predictions_warn_or_raise(tvsum_val):
    sub = _oracle(tvsum_val)
    sub[0] = dict(sub[0],
                  pred_saliency_scores=sub[0]['pred_saliency_scores'][:10])
    with pytest.warns(SubmissionWarning, match='fewer saliency scores'):
        evaluate_tvsum(sub, tvsum_val)
    with pytest.raises(SubmissionError, match=r'\[strict\]'):
        evaluate_tvsum(sub, tvsum_val, strict=True)
