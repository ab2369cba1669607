# Copyright (c) mmmrhd contributors. All rights reserved.
"""Moment retrieval: IoU, AP, greedy matching, R1 and the exact sums."""
import numpy as np
import pytest

from mmmrhd.evaluation.functional import (
    CHARADES_R1_THRESHOLDS, MR_MAP_THRESHOLDS, hull_temporal_iou,
    mr_average_precision, mr_top1_iou, parse_submission,
    reference_mr_average_precision, reference_mr_top1_iou, temporal_iou,
    voc_average_precision)
from mmmrhd.evaluation.functional.moment_retrieval import mr_bucket_masks
from mmmrhd.evaluation.functional.qvhighlights import MR_BUCKETS
from mmmrhd.evaluation.functional.ragged import prefix_sums


def _ap(preds, gts):
    """Vectorised and reference AP of one query; asserts they agree."""
    p = [np.array(preds, dtype=float).reshape(-1, 3)]
    g = [np.array(gts, dtype=float)]
    ours = mr_average_precision(p, g)[0]
    np.testing.assert_array_equal(ours,
                                  reference_mr_average_precision(p, g)[0])
    return ours


def test_thresholds_are_the_official_literals():
    assert MR_MAP_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
                                 0.9, 0.95)
    assert CHARADES_R1_THRESHOLDS[:3] == (0.3, 0.35, 0.4)
    assert len(CHARADES_R1_THRESHOLDS) == 14
    assert [str(t) for t in MR_MAP_THRESHOLDS][:3] == ['0.5', '0.55', '0.6']


def test_temporal_iou_values_and_degenerate_windows():
    gt = np.array([[0., 10.]])
    preds = np.array([
        [0., 10.],  # identical: 1
        [5., 15.],  # 5 / 15
        [20., 30.],  # disjoint: 0
        [0., 8.],  # 8 / 10
        [10., 0.],  # reversed, same length: union 0 -> 0/0 = NaN
        [5., 5.],  # zero length inside: 0
        [12., 0.],  # reversed, longer: union -2 -> -0.0
        [8., 0.],  # reversed, shorter: 0 / 2
    ])
    iou = temporal_iou(preds[:, None, :], gt[None, :, :])[:, 0]
    # The official values (compute_temporal_iou_batch_cross), NaN included.
    np.testing.assert_allclose(iou, [1, 1 / 3, 0, 0.8, np.nan, 0, 0, 0])
    assert iou[3] == 0.8  # exact: matters for the >= 0.8 threshold
    assert np.signbit(iou[6]) and not np.signbit(iou[7])
    # Zero-length prediction on a zero-length GT: union 0 -> NaN.
    assert np.isnan(temporal_iou(np.array([3., 3.]), np.array([3., 3.])))
    # JSON integers give the same values as floats.
    np.testing.assert_array_equal(
        temporal_iou(preds.astype(int)[:, None, :], gt.astype(int)[None]),
        iou[:, None])


def test_hull_iou():
    a = np.array([[0., 10.], [0., 10.], [10., 0.], [2., 2.]])
    b = np.array([[5., 15.], [20., 30.], [0., 10.], [2., 2.]])
    np.testing.assert_array_equal(hull_temporal_iou(a, b), [5 / 15, 0, 0, 0])


def test_voc_ap_hand_computed():
    # FP, TP, FP, TP with 2 GTs: precision 0, .5, 1/3, .5 at recall
    # 0, .5, .5, 1; envelope .5 at both steps -> AP .5*.5 + .5*.5 = .5
    tp = np.array([[0., 1., 0., 1.]])
    valid = np.ones_like(tp, dtype=bool)
    assert voc_average_precision(tp, valid, np.array([2]))[0] == 0.5
    # Padding at the end of a row changes nothing.
    tp_pad = np.array([[0., 1., 0., 1., 0., 0.]])
    valid_pad = np.array([[True] * 4 + [False] * 2])
    assert voc_average_precision(tp_pad, valid_pad, np.array([2]))[0] == 0.5
    # No valid detection at all: AP 0.
    assert voc_average_precision(np.zeros((1, 3)), np.zeros((1, 3), bool),
                                 np.array([1]))[0] == 0


def test_ap_fp_then_tp():
    ap = _ap([[20, 30, .9], [0, 10, .8]], [[0, 10]])
    np.testing.assert_array_equal(ap, 0.5)


def test_ap_score_ties_keep_file_order():
    # Equal scores: the stable sort keeps file order.
    np.testing.assert_array_equal(_ap([[20, 30, .5], [0, 10, .5]], [[0, 10]]),
                                  0.5)
    np.testing.assert_array_equal(_ap([[0, 10, .5], [20, 30, .5]], [[0, 10]]),
                                  1.0)
    # The score, not the file order, ranks otherwise.
    np.testing.assert_array_equal(_ap([[20, 30, .1], [0, 10, .5]], [[0, 10]]),
                                  1.0)


def test_ap_depends_on_threshold():
    # IoU exactly 0.8: TP for the 7 thresholds <= 0.8, FP above.
    np.testing.assert_array_equal(_ap([[0, 8, 1.]], [[0, 10]]),
                                  [1.] * 7 + [0.] * 3)


def test_ap_greedy_matching_with_locked_gt():
    # TP, duplicate of a matched GT (FP), TP: precision 1, .5, 2/3 at
    # recall .5, .5, 1 -> AP .5 * 1 + .5 * 2/3.
    ap = _ap([[0, 10, .9], [0, 10, .8], [10, 20, .7]], [[0, 10], [10, 20]])
    np.testing.assert_allclose(ap, 0.5 + 0.5 * 2 / 3)


def test_ap_more_than_ten_gt_windows_and_window_cap():
    gts = [[4 * i, 4 * i + 2] for i in range(12)]
    preds = [[4 * i, 4 * i + 2, 1 - i / 100] for i in range(12)]
    # Only the first 10 predictions (file order) count: recall 10/12.
    np.testing.assert_allclose(_ap(preds, gts), 10 / 12)
    # The 11th/12th windows in FILE order are dropped even if best-scored.
    preds_rev = preds[2:] + preds[:2]
    preds_rev[-1][2] = preds_rev[-2][2] = 5.
    np.testing.assert_allclose(_ap(preds_rev, gts), 10 / 12)


def test_ap_tied_gt_visiting_order_follows_numpy_argsort():
    # pred1 has the same IoU (9.5/10.5) with GT i = [0, 10] and GT j =
    # [1, 11]; the other GTs are far away. Which of i, j it takes decides
    # whether pred2 ([0, 10]: IoU 1 with GT i, 9/11 with GT j) is a TP above
    # 9/11. The official visiting order is ``argsort()[::-1]`` of the IoU
    # row with numpy's default (unstable) sort, so the expectation is built
    # from it; for many (k, i, j) it differs from a stable order on
    # SIMD-sorting machines.
    thr = np.array(MR_MAP_THRESHOLDS)
    preds, gts, expected = [], [], []
    for k in (2, 4, 6, 10, 18):
        for i in range(k):
            for j in range(k):
                if i == j:
                    continue
                g = np.array([[100. + 20 * m, 110. + 20 * m]
                              for m in range(k)])
                g[i], g[j] = [0., 10.], [1., 11.]
                row = temporal_iou(np.array([0.5, 10.5]), g)
                first = int(np.argsort(row)[::-1][0])
                assert first in (i, j) and row[i] == row[j]
                pred1_tp = thr <= row[i]  # FP at 0.95: locks nothing
                # pred2 gets GT i unless pred1 locked it (then only GT j).
                pred2_tp = ~pred1_tp | (first == j) | (thr <= 9 / 11)
                tp = np.stack([pred1_tp, pred2_tp], axis=1).astype(float)
                expected.append(
                    voc_average_precision(tp, np.ones_like(tp, bool),
                                          np.full(len(thr), k)))
                preds.append(np.array([[0.5, 10.5, .9], [0., 10., .8]]))
                gts.append(g)
    ours = mr_average_precision(preds, gts)
    np.testing.assert_array_equal(ours, np.array(expected))
    np.testing.assert_array_equal(ours,
                                  reference_mr_average_precision(preds, gts))


def test_ap_empty_and_reversed_predictions():
    p = [np.zeros((0, 3))]
    g = [np.array([[0., 10.]])]
    np.testing.assert_array_equal(mr_average_precision(p, g), 0)
    # Reversed window whose length equals the GT's: IoU NaN, which the
    # official `iou < threshold` test does not reject -> TP everywhere.
    np.testing.assert_array_equal(_ap([[10, 0, 1.]], [[0, 10]]), 1)
    # ... and it takes the GT before a perfect, lower-scored window.
    np.testing.assert_array_equal(_ap([[10, 0, 1.], [0, 10, .5]], [[0, 10]]),
                                  1)
    # With two GT windows the NaN one is visited first (argsort puts NaN
    # last, [::-1] first), even before an IoU-1 GT window.
    np.testing.assert_array_equal(
        _ap([[10, 0, 1.], [20, 30, .5]], [[20, 30], [0, 10]]), 1)
    # Longer or shorter reversed windows (IoU -0.0 / 0) and zero-length
    # windows are false positives.
    np.testing.assert_array_equal(
        _ap([[12, 0, 1.], [8, 0, .9], [5, 5, .8]], [[0, 10]]), 0)
    # Zero-length prediction on a zero-length GT window: NaN -> TP.
    np.testing.assert_array_equal(_ap([[3, 3, 1.]], [[3, 3]]), 1)


def test_mr_average_precision_input_errors():
    with pytest.raises(ValueError, match='2 ground-truth lists'):
        mr_average_precision([np.zeros((0, 3))], [np.zeros((1, 2))] * 2)
    with pytest.raises(ValueError, match='at least one GT window'):
        mr_average_precision([np.zeros((0, 3))], [np.zeros((0, 2))])


def test_top1_iou_uses_first_window_in_file_order():
    preds = [
        np.array([[0., 10., .1], [20., 30., .9]]),  # first window misses
        np.array([[0., 8., .5]]),  # best GT is the second one
        np.zeros((0, 3)),  # no window: 0
        np.array([[10., 0., 1.]]),  # reversed: 0
        np.array([[3., 3., 1.]]),  # zero length on zero-length GT: 0
    ]
    gts = [
        np.array([[20., 30.]]),
        np.array([[0., 4.], [0., 10.]]),
        np.array([[0., 10.]]),
        np.array([[30., 40.], [0., 10.]]),
        np.array([[3., 3.]]),
    ]
    ours = mr_top1_iou(preds, gts)
    np.testing.assert_array_equal(ours, [0, 0.8, 0, 0, 0])
    np.testing.assert_array_equal(ours, reference_mr_top1_iou(preds, gts))
    assert mr_top1_iou([], []).shape == (0, )


def test_bucket_boundaries():
    gts = [
        np.array([[0., 10.], [0., 10.5], [0., 30.], [0., 150.], [0., 151.]])
    ]
    masks = mr_bucket_masks(gts, MR_BUCKETS)
    assert masks['short'][0].tolist() == [True, False, False, False, False]
    assert masks['middle'][0].tolist() == [False, True, True, False, False]
    assert masks['long'][0].tolist() == [False, False, False, True, False]
    assert masks['full'][0].tolist() == [True] * 5


def test_prefix_sums_is_numpy_pairwise_sum():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 40, 300)
    values = rng.random(counts.sum()) * 10.0**rng.integers(-3, 3, counts.sum())
    offsets = np.cumsum(counts) - counts
    rows = np.zeros((300, 40))
    for r, (o, c) in enumerate(zip(offsets, counts)):
        rows[r, :c] = values[o:o + c]
    sums = prefix_sums(rows, counts)
    expected = [np.sum(values[o:o + c]) for o, c in zip(offsets, counts)]
    np.testing.assert_array_equal(sums, expected)
    # A left-to-right sum differs somewhere: the association matters.
    sequential = []
    for o, c in zip(offsets, counts):
        acc = 0.
        for v in values[o:o + c]:
            acc += v
        sequential.append(acc)
    assert not np.array_equal(sums, sequential)


@pytest.mark.parametrize('seed', range(8))
def test_vectorised_equals_reference_bitwise(random_case, seed):
    sub, gt = random_case(seed, num_queries=120)
    parsed = parse_submission(sub, gt)
    np.testing.assert_array_equal(
        mr_average_precision(parsed.pred_windows, parsed.gt_windows),
        reference_mr_average_precision(parsed.pred_windows, parsed.gt_windows))
    np.testing.assert_array_equal(
        mr_top1_iou(parsed.pred_windows, parsed.gt_windows),
        reference_mr_top1_iou(parsed.pred_windows, parsed.gt_windows))
