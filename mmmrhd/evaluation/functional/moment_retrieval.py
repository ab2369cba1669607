# Copyright (c) mmmrhd contributors. All rights reserved.
"""Vectorised moment-retrieval metrics: per-query AP and R1 IoU.

These reproduce jayleicn/moment_detr ``standalone_eval`` (``eval.py``
``compute_mr_ap`` / ``compute_mr_r1`` and ``utils.py``
``compute_average_precision_detection``) bit for bit on valid windows,
without multiprocessing. The only deliberate difference: a window pair whose
union is <= 0 or whose predicted end is before its start has IoU 0 (the
official code divides 0 by 0 there and counts a NaN IoU as a true positive).

Exactness notes (all verified by the parity tests):

* GT windows are visited by IoU descending through ``argsort()[::-1]`` with
  numpy's default (unstable, SIMD) sort. To visit tied GT windows in the
  official order we argsort rows of exactly the official length and values:
  queries are grouped by their number of GT windows.
* Per-query AP and HL AP sums are taken with ``np.sum`` over rows holding
  exactly the official terms (rows grouped by term count), so numpy's
  pairwise summation associates them as in the official code.
"""
from typing import Dict, List, Sequence

import numpy as np

#: IoU thresholds 0.5:0.05:0.95 as the official float literals
#: (eval.py ``[float(f"{e:.2f}") for e in np.linspace(0.5, 0.95, 10)]``).
MR_MAP_THRESHOLDS = tuple(
    float(f'{e:.2f}') for e in np.linspace(0.5, 0.95, 10))
#: R1 thresholds of QVHighlights (same as the mAP ones).
QVH_R1_THRESHOLDS = MR_MAP_THRESHOLDS
#: R1 thresholds of Charades-STA (CG-DETR eval.py ``compute_mr_r1``:
#: ``np.linspace(0.3, 0.95, 14)``).
CHARADES_R1_THRESHOLDS = tuple(
    float(f'{e:.2f}') for e in np.linspace(0.3, 0.95, 14))
#: Windows kept per record for mAP (eval.py ``max_pred_windows=10``).
MAX_PRED_WINDOWS = 10


def temporal_iou(spans1: np.ndarray, spans2: np.ndarray) -> np.ndarray:
    """IoU of broadcastable ``[start, end]`` windows.

    ``inter / (len1 + len2 - inter)`` with ``inter = max(0, min(ends) -
    max(starts))``, evaluated in the official operation order
    (``utils.py compute_temporal_iou_batch_cross``). Where the union is <= 0
    or ``spans1`` is reversed (end < start) the IoU is 0.

    Args:
        spans1 (np.ndarray): ``(..., 2)`` windows (predictions).
        spans2 (np.ndarray): ``(..., 2)`` windows (ground truth),
            broadcastable against ``spans1``.

    Returns:
        np.ndarray: float64 IoU of the broadcast shape without the last dim.
    """
    s1, e1 = spans1[..., 0], spans1[..., 1]
    s2, e2 = spans2[..., 0], spans2[..., 1]
    inter = np.clip(np.minimum(e1, e2) - np.maximum(s1, s2), 0, None)
    union = (e1 - s1) + (e2 - s2) - inter
    valid = (union > 0) & (e1 >= s1)
    iou = np.zeros(np.broadcast_shapes(inter.shape, union.shape))
    np.divide(inter, union, out=iou, where=valid)
    return iou


def hull_temporal_iou(spans1: np.ndarray, spans2: np.ndarray) -> np.ndarray:
    """Paired IoU of the official R1: ``inter / (max(ends) - min(starts))``.

    Equals the IoU whenever the windows overlap (``utils.py
    compute_temporal_iou_batch_paired``); 0 where the denominator is <= 0.

    Args:
        spans1 (np.ndarray): ``(N, 2)`` windows.
        spans2 (np.ndarray): ``(N, 2)`` windows.

    Returns:
        np.ndarray: ``(N,)`` float64.
    """
    inter = np.maximum(
        0,
        np.minimum(spans1[:, 1], spans2[:, 1]) -
        np.maximum(spans1[:, 0], spans2[:, 0]))
    union = np.maximum(spans1[:, 1], spans2[:, 1]) - np.minimum(
        spans1[:, 0], spans2[:, 0])
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def ragged_sum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum consecutive runs of ``values`` exactly like ``np.sum`` of each run.

    Run ``i`` holds the next ``counts[i]`` entries. Runs of the same length
    are stacked into a C-contiguous ``(R, m)`` array and summed with
    ``np.sum(axis=1)``, which applies numpy's pairwise summation to each row
    just as ``np.sum`` does to a 1-D array of length ``m``. (A plain
    left-to-right sum can differ in the last bit for ``m >= 8``.)

    Args:
        values (np.ndarray): ``(sum(counts),)`` float64 terms.
        counts (np.ndarray): ``(R,)`` int run lengths.

    Returns:
        np.ndarray: ``(R,)`` float64 sums (0 for empty runs).
    """
    out = np.zeros(len(counts))
    offsets = np.cumsum(counts) - counts
    for m in np.unique(counts):
        if m == 0:
            continue
        rows = np.flatnonzero(counts == m)
        out[rows] = np.sum(values[offsets[rows, None] + np.arange(m)], axis=1)
    return out


def voc_average_precision(tp: np.ndarray, valid: np.ndarray,
                          num_gt: np.ndarray) -> np.ndarray:
    """VOC-interpolated AP of ranked detections, many rows at once.

    Precision envelope with sentinels (recall 0 and 1, precision 0) and the
    sum of ``delta recall * precision`` over recall steps
    (``utils.py interpolated_precision_recall``).

    Args:
        tp (np.ndarray): ``(R, P)`` 0/1 true-positive flags in rank order.
        valid (np.ndarray): ``(R, P)`` bool, False for padding at the end of
            a row (padding is neither TP nor FP).
        num_gt (np.ndarray): ``(R,)`` number of GT windows (> 0).

    Returns:
        np.ndarray: ``(R,)`` float64 AP (0 for rows without valid entries).
    """
    num_rows, num_preds = tp.shape
    tp_cum = np.cumsum(tp, axis=1, dtype=np.float64)
    rank = np.arange(1, num_preds + 1, dtype=np.float64)
    recall = tp_cum / num_gt[:, None].astype(np.float64)
    precision = np.where(valid, tp_cum / rank, 0.)
    mrec = np.concatenate(
        [np.zeros((num_rows, 1)), recall,
         np.ones((num_rows, 1))], axis=1)
    mprec = np.concatenate(
        [np.zeros((num_rows, 1)), precision,
         np.zeros((num_rows, 1))], axis=1)
    mprec = np.maximum.accumulate(mprec[:, ::-1], axis=1)[:, ::-1]
    step = np.zeros_like(mrec, dtype=bool)
    step[:, 1:] = mrec[:, 1:] != mrec[:, :-1]
    d_rec = np.zeros_like(mrec)
    d_rec[:, 1:] = mrec[:, 1:] - mrec[:, :-1]
    # The official terms, row by row in recall-step order.
    return ragged_sum((d_rec * mprec)[step], step.sum(axis=1))


def _greedy_match(iou: np.ndarray, valid: np.ndarray,
                  thresholds: np.ndarray) -> np.ndarray:
    """Official greedy matching for queries with the same number of GTs.

    Args:
        iou (np.ndarray): ``(N, P, K)`` IoU of ranked predictions vs GTs.
        valid (np.ndarray): ``(N, P)`` bool prediction mask.
        thresholds (np.ndarray): ``(T,)`` IoU thresholds.

    Returns:
        np.ndarray: ``(N, T, P)`` bool TP flags.
    """
    num, num_preds, num_gt = iou.shape
    thr = thresholds[None, :, None]
    if num_gt == 1:
        # One GT window: the best-ranked prediction reaching the threshold
        # takes it; every later one is a false positive.
        ok = (iou[:, None, :, 0] >= thr) & valid[:, None, :]
        return ok & (np.cumsum(ok, axis=-1) == 1)
    # Visiting order of the official loop: ``tiou_arr.argsort()[::-1]`` on
    # a length-K row; an (N, P, K) argsort sorts each row the same way.
    order = np.argsort(iou, axis=-1)[..., ::-1]
    iou_sorted = np.take_along_axis(iou, order, axis=-1)
    num_t = thresholds.size
    locked = np.zeros((num, num_t, num_gt), dtype=bool)
    tp = np.zeros((num, num_t, num_preds), dtype=bool)
    q2, t2 = np.arange(num)[:, None], np.arange(num_t)[None, :]
    q3, t3 = q2[:, :, None], t2[:, :, None]
    for r in range(num_preds):
        o_r, s_r = order[:, r, :], iou_sorted[:, r, :]  # (N, K)
        # The loop stops at the first GT that is below the threshold (FP)
        # or not yet locked (TP); GTs locked by better predictions are
        # skipped. No stop at all also means FP.
        stop = (s_r[:, None, :] < thr) | ~locked[q3, t3, o_r[:, None, :]]
        first = np.argmax(stop, axis=-1)  # (N, T)
        hit = (stop[q2, t2, first] & (s_r[q2, first] >= thresholds)
               & valid[:, r, None])
        tp[:, :, r] = hit
        locked[q2, t2, o_r[q2, first]] |= hit
    return tp


def mr_average_precision(
        pred_windows: Sequence[np.ndarray],
        gt_windows: Sequence[np.ndarray],
        thresholds: Sequence[float] = MR_MAP_THRESHOLDS,
        max_pred_windows: int = MAX_PRED_WINDOWS) -> np.ndarray:
    """Per-query moment-retrieval AP at several IoU thresholds.

    The first ``max_pred_windows`` windows of each query (file order) are
    ranked by score with a stable descending sort, matched greedily to the
    GT windows (all of them) and scored with the VOC-interpolated AP.
    A query without predicted windows has AP 0.

    Args:
        pred_windows (Sequence[np.ndarray]): Per query ``(n_i, 3)``
            ``[start, end, score]`` in file order.
        gt_windows (Sequence[np.ndarray]): Per query ``(m_i, 2)`` GT
            ``[start, end]``, ``m_i >= 1``.
        thresholds (Sequence[float]): IoU thresholds ``(T,)``.
        max_pred_windows (int): Windows kept per query. Defaults to 10.

    Returns:
        np.ndarray: ``(Q, T)`` float64 AP.
    """
    num_q = len(pred_windows)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    num_t = thresholds.size
    if len(gt_windows) != num_q:
        raise ValueError(f'got {num_q} prediction lists but '
                         f'{len(gt_windows)} ground-truth lists')
    preds = [p[:max_pred_windows] for p in pred_windows]
    max_p = max([len(p) for p in preds] + [1])
    num_gts = np.array([len(g) for g in gt_windows])
    if num_q and num_gts.min() < 1:
        raise ValueError('every query needs at least one GT window')
    tp = np.zeros((num_q, num_t, max_p))
    valid = np.zeros((num_q, max_p), dtype=bool)
    for q, p in enumerate(preds):
        valid[q, :len(p)] = True
    for k in np.unique(num_gts):
        group = np.flatnonzero(num_gts == k)
        windows = np.zeros((group.size, max_p, 3))
        windows[:, :, 1] = -1.  # padding: reversed window, IoU 0
        windows[:, :, 2] = -np.inf
        for i, q in enumerate(group):
            windows[i, :len(preds[q])] = preds[q]
        # Stable descending sort by score (Python ``list.sort`` with key
        # -score in the official code); padding (-inf) goes last.
        order = np.argsort(-windows[:, :, 2], axis=1, kind='stable')
        windows = np.take_along_axis(windows, order[:, :, None], axis=1)
        gts = np.stack([gt_windows[q] for q in group])  # (G, k, 2)
        iou = temporal_iou(windows[:, :, None, :2], gts[:, None, :, :])
        tp[group] = _greedy_match(iou, valid[group], thresholds)
    flat_tp = tp.reshape(num_q * num_t, max_p)
    flat_valid = np.repeat(valid, num_t, axis=0)
    ap = voc_average_precision(flat_tp, flat_valid, np.repeat(num_gts, num_t))
    return ap.reshape(num_q, num_t)


def mr_top1_iou(pred_windows: Sequence[np.ndarray],
                gt_windows: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of each query's first predicted window (file order) for R1.

    The GT window with the highest IoU (first on ties) is chosen, then the
    IoU is recomputed with :func:`hull_temporal_iou` (``eval.py
    compute_mr_r1``). A query without predicted windows gets 0.

    Args:
        pred_windows (Sequence[np.ndarray]): Per query ``(n_i, >=2)``.
        gt_windows (Sequence[np.ndarray]): Per query ``(m_i, 2)``,
            ``m_i >= 1``.

    Returns:
        np.ndarray: ``(Q,)`` float64 IoU.
    """
    num_q = len(pred_windows)
    if num_q == 0:
        return np.zeros(0)
    has_pred = np.array([len(p) > 0 for p in pred_windows])
    top1 = np.zeros((num_q, 2))
    top1[:, 1] = -1.
    for q in np.flatnonzero(has_pred):
        top1[q] = pred_windows[q][0, :2]
    max_k = max(len(g) for g in gt_windows)
    gts = np.zeros((num_q, max_k, 2))
    gt_valid = np.zeros((num_q, max_k), dtype=bool)
    for q, g in enumerate(gt_windows):
        gts[q, :len(g)] = g
        gt_valid[q, :len(g)] = True
    iou = temporal_iou(top1[:, None, :], gts)
    best = np.argmax(np.where(gt_valid, iou, -np.inf), axis=1)
    chosen = gts[np.arange(num_q), best]
    return np.where(has_pred, hull_temporal_iou(top1, chosen), 0.)


def mr_bucket_masks(gt_windows: Sequence[np.ndarray],
                    ranges: Dict[str, tuple]) -> Dict[str, List[np.ndarray]]:
    """Which GT windows fall in each length range ``(lo, hi]``.

    Args:
        gt_windows (Sequence[np.ndarray]): Per query ``(m_i, 2)``.
        ranges (dict): Name to ``(lo, hi)``; ``None`` keeps every window.

    Returns:
        dict: Name to a list of per-query bool masks ``(m_i,)``.
    """
    lengths = [g[:, 1] - g[:, 0] for g in gt_windows]
    out = {}
    for name, bounds in ranges.items():
        if bounds is None:
            out[name] = [np.ones(len(x), dtype=bool) for x in lengths]
        else:
            lo, hi = bounds
            out[name] = [(x > lo) & (x <= hi) for x in lengths]
    return out
