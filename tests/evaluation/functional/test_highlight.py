# Copyright (c) mmmrhd contributors. All rights reserved.
"""Highlight detection: HL AP with ties and padding, HIT@1."""
import numpy as np
import pytest

from mmmrhd.evaluation.functional import (HighlightRanking, gt_saliency_matrix,
                                          hl_hit_at_one, hl_metrics,
                                          parse_submission,
                                          reference_hl_ap_one,
                                          reference_hl_hit_one)


def _ap_one(y_true, y_score):
    """HL AP of one annotator column; vectorised and reference agree."""
    y_true = np.asarray(y_true, dtype=float)
    gt = np.repeat(y_true[:, None] * 4, 3, axis=1)  # score 4 = positive
    ours = HighlightRanking([np.asarray(y_score, dtype=float)],
                            [gt]).average_precision(4)[0, 0]
    padded = np.zeros(len(y_true))
    n = min(len(y_true), len(y_score))
    padded[:n] = np.asarray(y_score, dtype=float)[:n]
    assert ours == reference_hl_ap_one(y_true, padded)
    return ours


def test_gt_saliency_matrix():
    m = gt_saliency_matrix(9, [1, 3], [[1, 2, 3], [4, 4, 0]])
    assert m.shape == (4, 3)  # int(9 / 2) clips
    np.testing.assert_array_equal(m,
                                  [[0, 0, 0], [1, 2, 3], [0, 0, 0], [4, 4, 0]])
    assert gt_saliency_matrix(4, [], []).sum() == 0


def test_hl_ap_without_ties():
    # Positives at ranks 1 and 3: (1 + 2/3) / 2.
    assert _ap_one([1, 0, 1], [.5, .4, .1]) == pytest.approx(5 / 6)
    assert _ap_one([0, 1, 0, 1], [.9, .8, .7, .6]) == pytest.approx(
        (1 / 2 + 2 / 4) / 2)


def test_hl_ap_tied_scores_form_one_level():
    # Clips 0 and 1 tie: one level with precision 1/2 (recall 1/2), then
    # 2/3 at full recall; interpolated: 2/3 at both levels.
    assert _ap_one([1, 0, 1], [.5, .5, .1]) == pytest.approx(2 / 3)
    # A level holding two positives counts once: levels {0, 1, 2} (2 pos,
    # precision 2/3) and {3} (3 pos, 3/4) -> mean(3/4, 3/4).
    assert _ap_one([1, 1, 0, 1], [.5, .5, .5, .1]) == pytest.approx(3 / 4)


def test_hl_ap_all_negative_and_all_positive():
    assert _ap_one([0, 0, 0], [.3, .2, .1]) == 0
    assert _ap_one([1, 1, 1], [.1, .2, .3]) == 1


def test_hl_ap_zero_padding_and_truncation():
    # 4 clips, 2 scores (negative): padded with 0.0, the two padded clips
    # outrank the real ones; the positive clip 0 comes third -> 1/3.
    assert _ap_one([1, 0, 0, 0], [-1., -2.]) == pytest.approx(1 / 3)
    # Scores past the last clip are ignored for AP.
    assert _ap_one([1, 0], [.1, .0, 5., 5.]) == 1.


def test_hit_at_one():
    gt = np.array([[0, 0, 0], [1, 2, 4], [4, 0, 0], [0, 0, 0]], dtype=float)
    preds = [
        np.array([.1, .9, .2, .0]),  # clip 1: any annotator >= 4 -> hit
        np.array([.9, .1, .9, .9]),  # tie: first max (clip 0) -> miss
        np.array([.1, .2, .3, .4, .9]),  # beyond the clips -> miss
        np.array([.0, .0, .5]),  # clip 2 -> hit at 4, 3, 2
    ]
    gts = [gt] * 4
    np.testing.assert_array_equal(hl_hit_at_one(preds, gts, 4), [1, 0, 0, 1])
    np.testing.assert_array_equal(hl_hit_at_one(preds, gts, 2), [1, 0, 0, 1])
    np.testing.assert_array_equal(
        [reference_hl_hit_one(p, gt, 4) for p in preds], [1, 0, 0, 1])


def test_hl_metrics_layout():
    gt = np.array([[0, 0, 0], [1, 2, 4], [4, 0, 0]], dtype=float)
    res = hl_metrics([np.array([.1, .9, .2])], [gt])
    assert list(res) == ['Fair', 'Good', 'VeryGood']
    assert res['Fair']['ap'].shape == (1, 3)
    # Fair (>= 2) labels per annotator: [0,0,1], [0,1,0], [0,1,0]; the
    # ranking is clip 1, 2, 0 -> AP 1/2, 1, 1.
    np.testing.assert_allclose(res['Fair']['ap'][0], [1 / 2, 1, 1])
    np.testing.assert_array_equal(res['VeryGood']['hit1'], [1])


def test_ranking_needs_clips():
    with pytest.raises(ValueError, match='at least one GT clip'):
        HighlightRanking([np.array([1.])], [np.zeros((0, 3))])


@pytest.mark.parametrize('seed', range(4))
def test_vectorised_equals_reference_bitwise(random_case, seed):
    sub, gt = random_case(seed, num_queries=150)
    parsed = parse_submission(sub, gt)
    ranking = HighlightRanking(parsed.pred_scores, parsed.gt_scores)
    for min_score in (2, 3, 4):
        ours = ranking.average_precision(min_score)
        ref = np.zeros_like(ours)
        for q, (pred, g) in enumerate(zip(parsed.pred_scores,
                                          parsed.gt_scores)):
            y_score = np.zeros(len(g))
            n = min(len(g), len(pred))
            y_score[:n] = pred[:n]
            for a in range(3):
                ref[q, a] = reference_hl_ap_one(
                    (g[:, a] >= min_score).astype(float), y_score)
        np.testing.assert_array_equal(ours, ref)
