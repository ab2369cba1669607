# Copyright (c) mmmrhd contributors. All rights reserved.
"""Vectorised moment-retrieval metrics: per-query AP and R1 IoU.

These reproduce jayleicn/moment_detr ``standalone_eval`` (``eval.py``
``compute_mr_ap`` / ``compute_mr_r1`` and ``utils.py``
``compute_average_precision_detection``) bit for bit, without
multiprocessing, including windows with end <= start.

Exactness notes (all verified against the official code, see
``tests/evaluation/functional/test_official_oracle.py``):

* IoU is ``inter / union`` exactly as ``compute_temporal_iou_batch_cross``
  computes it, so a reversed predicted window whose length equals a GT
  window's gives ``0 / 0 = NaN`` (and a shorter GT window ``-0.0``). The
  official loop tests ``iou < threshold`` to reject a GT window, which is
  False for NaN: such a window is a true positive at every threshold (if the
  GT window is still free), and NaN sorts first in the visiting order.
* GT windows are visited by IoU descending through ``argsort()[::-1]`` with
  numpy's default (unstable, SIMD) sort. To visit tied GT windows in the
  official order we argsort rows of exactly the official length and values
  (NaN and -0.0 included): queries are grouped by their number of GT
  windows.
* Per-query AP and HL AP sums are taken with ``np.sum`` over rows holding
  exactly the official terms (rows grouped by term count), so numpy's
  pairwise summation associates them as in the official code.
* JSON integers and floats give the same numbers: every value the official
  code meets is an integer or a double, and the int64 arithmetic it uses for
  all-integer windows is exact, like our float64 arithmetic on them.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .ragged import (distinct_counts, prefix_sums, ragged_offsets,
                     ragged_to_padded)

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
    """IoU of broadcastable ``[start, end]`` windows, as officially computed.

    ``inter / (len1 + len2 - inter)`` with ``inter = max(0, min(ends) -
    max(starts))``, in the official operation order (``utils.py
    compute_temporal_iou_batch_cross``) and with its degenerate values: NaN
    where the union is 0 (e.g. a reversed window as long as the other one),
    ``-0.0`` where it is negative.

    Args:
        spans1 (np.ndarray): ``(..., 2)`` windows (predictions).
        spans2 (np.ndarray): ``(..., 2)`` windows (ground truth),
            broadcastable against ``spans1``.

    Returns:
        np.ndarray: float64 IoU of the broadcast shape without the last dim.
    """
    spans1 = np.asarray(spans1, dtype=np.float64)
    spans2 = np.asarray(spans2, dtype=np.float64)
    areas1 = spans1[..., 1] - spans1[..., 0]
    areas2 = spans2[..., 1] - spans2[..., 0]
    left = np.maximum(spans1[..., 0], spans2[..., 0])
    right = np.minimum(spans1[..., 1], spans2[..., 1])
    inter = np.clip(right - left, 0, None)
    union = areas1 + areas2 - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return inter / union


def hull_temporal_iou(spans1: np.ndarray, spans2: np.ndarray) -> np.ndarray:
    """Paired IoU of the official R1: ``inter / (max(ends) - min(starts))``.

    Equals the IoU whenever the windows overlap (``utils.py
    compute_temporal_iou_batch_paired``); 0 where the denominator is 0.

    Args:
        spans1 (np.ndarray): ``(N, 2)`` windows.
        spans2 (np.ndarray): ``(N, 2)`` windows.

    Returns:
        np.ndarray: ``(N,)`` float64.
    """
    spans1 = np.asarray(spans1, dtype=np.float64)
    spans2 = np.asarray(spans2, dtype=np.float64)
    inter = np.maximum(
        0,
        np.minimum(spans1[:, 1], spans2[:, 1]) -
        np.maximum(spans1[:, 0], spans2[:, 0]))
    union = np.maximum(spans1[:, 1], spans2[:, 1]) - np.minimum(
        spans1[:, 0], spans2[:, 0])
    return np.divide(inter, union, out=np.zeros_like(inter), where=union != 0)


def voc_average_precision(tp: np.ndarray, valid: np.ndarray,
                          num_gt: np.ndarray) -> np.ndarray:
    """VOC-interpolated AP of ranked detections, many rows at once.

    Precision envelope with sentinels (recall 0 and 1, precision 0) and the
    sum of ``delta recall * precision`` over recall steps
    (``utils.py interpolated_precision_recall``). Recall steps are the true
    positives (plus the final step to the recall-1 sentinel, whose term is
    0), and the envelope at a true positive is the best precision at it or
    at a later true positive (a false positive never has a higher precision
    than the true positive before it), so only the true positives are
    visited. The terms are summed in the official order with numpy's
    pairwise summation (rows grouped by term count).

    Args:
        tp (np.ndarray): ``(R, P)`` 0/1 true-positive flags in rank order.
        valid (np.ndarray): ``(R, P)`` bool, False for padding at the end of
            a row (padding is neither TP nor FP).
        num_gt (np.ndarray): ``(R,)`` number of GT windows (> 0).

    Returns:
        np.ndarray: ``(R,)`` float64 AP (0 for rows without valid entries).
    """
    num_rows = tp.shape[0]
    num_gt = np.asarray(num_gt, dtype=np.float64)
    row, pos = np.nonzero((tp != 0) & valid)  # by row, then rank
    n_tp = np.bincount(row, minlength=num_rows)
    k = (np.arange(row.size) - (np.cumsum(n_tp) - n_tp)[row] + 1).astype(
        np.float64)  # TP count so far
    gt = num_gt[row]
    d_rec = k / gt - (k - 1) / gt  # recall[i] - recall[i - 1]
    precision = k / (pos + 1).astype(np.float64)  # tp / (tp + fp)
    col = (k - 1).astype(np.int64)
    width = int(n_tp.max()) + 1 if num_rows else 1
    env = np.zeros((num_rows, width))
    env[row, col] = precision
    env = np.maximum.accumulate(env[:, ::-1], axis=1)[:, ::-1]
    terms = np.zeros((num_rows, width))
    terms[row, col] = d_rec * env[row, col]
    # One more term, (1 - recall) * 0, unless the last recall is exactly 1.
    return prefix_sums(terms, n_tp + (n_tp < num_gt))


#: Queries evaluated at once; bounds the memory of the padded arrays.
CHUNK_QUERIES = 2048


def _greedy_match(iou: np.ndarray, valid: np.ndarray,
                  thresholds: np.ndarray) -> np.ndarray:
    """Official greedy matching for queries with the same number of GTs.

    A GT window is rejected by ``iou < threshold`` as officially, so a NaN
    IoU (a degenerate window) is not rejected: it matches if still free.

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
        # One GT window: the best-ranked prediction not below the threshold
        # takes it; every later one is a false positive.
        ok = ~(iou[:, None, :, 0] < thr) & valid[:, None, :]
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
        below = s_r[:, None, :] < thr  # (N, T, K); False for NaN
        # The loop stops at the first GT that is below the threshold (FP)
        # or not yet locked (TP); GTs locked by better predictions are
        # skipped. No stop at all also means FP.
        stop = below | ~locked[q3, t3, o_r[:, None, :]]
        first = np.argmax(stop, axis=-1)  # (N, T)
        hit = (stop[q2, t2, first] & ~below[q2, t2, first]
               & valid[:, r, None])
        tp[:, :, r] = hit
        locked[q2, t2, o_r[q2, first]] |= hit
    return tp


def _ap_chunk(pred: np.ndarray, pred_counts: np.ndarray, gt: np.ndarray,
              gt_counts: np.ndarray, thresholds: np.ndarray,
              max_pred_windows: int) -> np.ndarray:
    """:func:`mr_average_precision_flat` for one chunk of queries."""
    num_q, num_t = len(pred_counts), thresholds.size
    kept = np.minimum(pred_counts, max_pred_windows)
    max_p = max(int(kept.max()) if num_q else 0, 1)
    windows = ragged_to_padded(pred, pred_counts, max_p, 0.)
    valid = np.arange(max_p)[None, :] < kept[:, None]
    # Stable descending sort by score (Python ``list.sort`` with key -score
    # in the official code); padding (-inf) goes last.
    score = np.where(valid, windows[:, :, 2], -np.inf)
    order = np.argsort(-score, axis=1, kind='stable')
    windows = np.take_along_axis(windows, order[:, :, None], axis=1)
    max_k = int(gt_counts.max())
    gts = ragged_to_padded(gt, gt_counts, max_k, 0.)
    tp = np.zeros((num_q, num_t, max_p), dtype=bool)
    for k in distinct_counts(gt_counts):
        group = np.flatnonzero(gt_counts == k)
        iou = temporal_iou(windows[group, :, None, :2],
                           gts[group, None, :k, :])  # (G, P, k)
        tp[group] = _greedy_match(iou, valid[group], thresholds)
    flat_tp = tp.reshape(num_q * num_t, max_p)
    flat_valid = np.repeat(valid, num_t, axis=0)
    ap = voc_average_precision(flat_tp, flat_valid,
                               np.repeat(gt_counts, num_t))
    return ap.reshape(num_q, num_t)


def _check_flat(pred_counts: np.ndarray, gt_counts: np.ndarray) -> None:
    if len(gt_counts) != len(pred_counts):
        raise ValueError(f'got {len(pred_counts)} prediction lists but '
                         f'{len(gt_counts)} ground-truth lists')
    if len(gt_counts) and gt_counts.min() < 1:
        raise ValueError('every query needs at least one GT window')


def _chunks(num: int):
    size = CHUNK_QUERIES
    for start in range(0, num, size):
        yield start, min(start + size, num)


def mr_average_precision_flat(
        pred: np.ndarray,
        pred_counts: np.ndarray,
        gt: np.ndarray,
        gt_counts: np.ndarray,
        thresholds: Sequence[float] = MR_MAP_THRESHOLDS,
        max_pred_windows: int = MAX_PRED_WINDOWS) -> np.ndarray:
    """Per-query moment-retrieval AP from flat (ragged) arrays.

    Query ``q`` owns the next ``pred_counts[q]`` rows of ``pred`` and the
    next ``gt_counts[q]`` rows of ``gt``. Queries are processed in chunks of
    :data:`CHUNK_QUERIES`, so memory stays bounded for any number of queries.

    Args:
        pred (np.ndarray): ``(N, 3)`` ``[start, end, score]`` in file order.
        pred_counts (np.ndarray): ``(Q,)`` windows per query.
        gt (np.ndarray): ``(M, 2)`` GT ``[start, end]``.
        gt_counts (np.ndarray): ``(Q,)`` GT windows per query (>= 1).
        thresholds (Sequence[float]): IoU thresholds ``(T,)``.
        max_pred_windows (int): Windows kept per query. Defaults to 10.

    Returns:
        np.ndarray: ``(Q, T)`` float64 AP.
    """
    pred_counts = np.asarray(pred_counts, dtype=np.int64)
    gt_counts = np.asarray(gt_counts, dtype=np.int64)
    _check_flat(pred_counts, gt_counts)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    out = np.zeros((len(pred_counts), thresholds.size))
    p_off = np.concatenate([[0], np.cumsum(pred_counts)])
    g_off = np.concatenate([[0], np.cumsum(gt_counts)])
    for a, b in _chunks(len(pred_counts)):
        out[a:b] = _ap_chunk(pred[p_off[a]:p_off[b]], pred_counts[a:b],
                             gt[g_off[a]:g_off[b]], gt_counts[a:b],
                             thresholds, max_pred_windows)
    return out


def mr_top1_iou_flat(pred: np.ndarray, pred_counts: np.ndarray,
                     gt: np.ndarray, gt_counts: np.ndarray) -> np.ndarray:
    """R1 IoU of each query's first window from flat arrays.

    See :func:`mr_average_precision_flat` for the layout and
    :func:`mr_top1_iou` for the rule.

    Returns:
        np.ndarray: ``(Q,)`` float64 IoU.
    """
    pred_counts = np.asarray(pred_counts, dtype=np.int64)
    gt_counts = np.asarray(gt_counts, dtype=np.int64)
    _check_flat(pred_counts, gt_counts)
    num_q = len(pred_counts)
    has_pred = pred_counts > 0
    top1 = np.zeros((num_q, 2))
    top1[has_pred] = pred[ragged_offsets(pred_counts)[has_pred], :2]
    out = np.zeros(num_q)
    g_off = np.concatenate([[0], np.cumsum(gt_counts)])
    for a, b in _chunks(num_q):
        counts = gt_counts[a:b]
        gts = ragged_to_padded(gt[g_off[a]:g_off[b]], counts,
                               int(counts.max()), 0.)
        gt_valid = np.arange(gts.shape[1])[None, :] < counts[:, None]
        iou = temporal_iou(top1[a:b, None, :], gts)
        # np.argmax takes the first NaN if there is one, as officially.
        best = np.argmax(np.where(gt_valid, iou, -np.inf), axis=1)
        chosen = gts[np.arange(b - a), best]
        out[a:b] = np.where(has_pred[a:b],
                            hull_temporal_iou(top1[a:b], chosen), 0.)
    return out


def _to_flat(windows: Sequence[np.ndarray],
             width: int) -> Tuple[np.ndarray, np.ndarray]:
    counts = np.array([len(w) for w in windows], dtype=np.int64)
    rows = [np.asarray(w, dtype=np.float64).reshape(-1, width)[:, :width]
            for w in windows if len(w)]
    flat = np.concatenate(rows) if rows else np.zeros((0, width))
    return flat, counts


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
    if len(gt_windows) != len(pred_windows):
        raise ValueError(f'got {len(pred_windows)} prediction lists but '
                         f'{len(gt_windows)} ground-truth lists')
    pred, pred_counts = _to_flat(pred_windows, 3)
    gt, gt_counts = _to_flat(gt_windows, 2)
    return mr_average_precision_flat(pred, pred_counts, gt, gt_counts,
                                     thresholds, max_pred_windows)


def mr_top1_iou(pred_windows: Sequence[np.ndarray],
                gt_windows: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of each query's first predicted window (file order) for R1.

    The GT window with the highest IoU (first on ties; the first NaN IoU if
    any, as ``np.argmax`` picks it) is chosen, then the IoU is recomputed
    with :func:`hull_temporal_iou` (``eval.py compute_mr_r1``). A query
    without predicted windows gets 0.

    Args:
        pred_windows (Sequence[np.ndarray]): Per query ``(n_i, >=2)``.
        gt_windows (Sequence[np.ndarray]): Per query ``(m_i, 2)``,
            ``m_i >= 1``.

    Returns:
        np.ndarray: ``(Q,)`` float64 IoU.
    """
    if len(pred_windows) == 0:
        return np.zeros(0)
    counts = np.array([len(p) for p in pred_windows], dtype=np.int64)
    first = [np.asarray(p, dtype=np.float64)[:1, :2] for p in pred_windows]
    pred, _ = _to_flat(first, 2)
    gt, gt_counts = _to_flat(gt_windows, 2)
    return mr_top1_iou_flat(pred, np.minimum(counts, 1), gt, gt_counts)


def bucket_mask(gt: np.ndarray, bounds: Optional[tuple]) -> np.ndarray:
    """Which GT windows have a length ``end - start`` in ``(lo, hi]``.

    Args:
        gt (np.ndarray): ``(M, 2)`` GT windows.
        bounds (tuple, optional): ``(lo, hi)``; ``None`` keeps every window.

    Returns:
        np.ndarray: ``(M,)`` bool.
    """
    if bounds is None:
        return np.ones(len(gt), dtype=bool)
    length = gt[:, 1] - gt[:, 0]
    return (length > bounds[0]) & (length <= bounds[1])


def mr_bucket_masks(gt_windows: Sequence[np.ndarray],
                    ranges: Dict[str, tuple]) -> Dict[str, List[np.ndarray]]:
    """Which GT windows fall in each length range ``(lo, hi]``.

    Args:
        gt_windows (Sequence[np.ndarray]): Per query ``(m_i, 2)``.
        ranges (dict): Name to ``(lo, hi)``; ``None`` keeps every window.

    Returns:
        dict: Name to a list of per-query bool masks ``(m_i,)``.
    """
    return {
        name: [bucket_mask(np.asarray(g).reshape(-1, 2), bounds)
               for g in gt_windows]
        for name, bounds in ranges.items()
    }
