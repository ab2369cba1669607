# Copyright (c) mmmrhd contributors. All rights reserved.
"""Plain loop-based reference implementation: the executable specification.

One query (and one annotator) at a time, in the order the official
evaluators process them, so it is easy to check line by line against the
semantics written down in ``docs/en/user_guides/metrics.md``. The tests
require the vectorised functions to agree with it bit for bit, and
``tools/analysis_tools/benchmark_metric.py`` uses it as the speed baseline.
It shares only input validation and output formatting with the vectorised
code.
"""
from collections import OrderedDict
from typing import Any, Dict, List, Sequence

import numpy as np

from .formatting import (assemble_results, empty_bucket_zeros, mr_section,
                         percent)
from .highlight import HL_CLIP_LEN, HL_LEVELS
from .moment_retrieval import MAX_PRED_WINDOWS, MR_MAP_THRESHOLDS
from .qvhighlights import MR_BUCKETS, check_options, parse_submission
from .tvsum import TVSUM_TOP_K


def reference_iou_row(pred: Sequence[float], gts: np.ndarray) -> np.ndarray:
    """IoU of one ``[start, end]`` window with each GT window.

    ``inter / (len_pred + len_gt - inter)`` as the official code computes
    it: NaN where the union is 0 (a reversed prediction as long as the GT
    window), ``-0.0`` where it is negative.

    Args:
        pred (Sequence[float]): ``[start, end]``.
        gts (np.ndarray): ``(K, 2)`` GT windows.

    Returns:
        np.ndarray: ``(K,)`` float64.
    """
    start, end = float(pred[0]), float(pred[1])
    inter = np.clip(
        np.minimum(end, gts[:, 1]) - np.maximum(start, gts[:, 0]), 0, None)
    union = (end - start) + (gts[:, 1] - gts[:, 0]) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return inter / union


def reference_voc_ap(tp: List[float], num_gt: int) -> float:
    """VOC-interpolated AP of one ranked list of TP (1) / FP (0) flags."""
    if not tp:
        return 0.
    tp_cum = np.cumsum(np.asarray(tp, dtype=np.float64))
    recall = tp_cum / float(num_gt)
    precision = tp_cum / np.arange(1, len(tp) + 1, dtype=np.float64)
    mrec = [0.] + list(recall) + [1.]
    mprec = [0.] + list(precision) + [0.]
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    terms = [(mrec[i] - mrec[i - 1]) * mprec[i] for i in range(1, len(mrec))
             if mrec[i] != mrec[i - 1]]
    return float(np.sum(terms))


def reference_mr_ap_one(
        pred: np.ndarray,
        gts: np.ndarray,
        thresholds: Sequence[float] = MR_MAP_THRESHOLDS,
        max_pred_windows: int = MAX_PRED_WINDOWS) -> np.ndarray:
    """AP of one query at each threshold.

    Args:
        pred (np.ndarray): ``(n, 3)`` ``[start, end, score]`` in file order.
        gts (np.ndarray): ``(m, 2)`` GT windows, ``m >= 1``.
        thresholds (Sequence[float]): IoU thresholds.
        max_pred_windows (int): Windows kept (the first ones in file order).

    Returns:
        np.ndarray: ``(T,)`` float64.
    """
    # First windows in file order, then a stable sort by score, descending.
    ranked = sorted(list(pred[:max_pred_windows]), key=lambda w: -w[2])
    ious = [reference_iou_row(window[:2], gts) for window in ranked]
    # Visit the GT windows by IoU, best first (official tie order).
    visit_orders = [iou.argsort()[::-1] for iou in ious]
    aps = np.zeros(len(thresholds))
    for t, thr in enumerate(thresholds):
        locked = [False] * len(gts)
        tp = []
        for iou, visit_order in zip(ious, visit_orders):
            hit = 0.
            for j in visit_order:
                if iou[j] < thr:  # False for a NaN IoU (official)
                    break  # every remaining GT is worse: false positive
                if locked[j]:
                    continue  # taken by a higher-scored prediction
                locked[j] = True
                hit = 1.
                break
            tp.append(hit)
        aps[t] = reference_voc_ap(tp, len(gts))
    return aps


def reference_mr_average_precision(
        pred_windows: Sequence[np.ndarray],
        gt_windows: Sequence[np.ndarray],
        thresholds: Sequence[float] = MR_MAP_THRESHOLDS,
        max_pred_windows: int = MAX_PRED_WINDOWS) -> np.ndarray:
    """Per-query AP ``(Q, T)``; see :func:`reference_mr_ap_one`."""
    out = np.zeros((len(pred_windows), len(thresholds)))
    for q, (pred, gts) in enumerate(zip(pred_windows, gt_windows)):
        out[q] = reference_mr_ap_one(pred, gts, thresholds, max_pred_windows)
    return out


def reference_mr_top1_iou(pred_windows: Sequence[np.ndarray],
                          gt_windows: Sequence[np.ndarray]) -> np.ndarray:
    """R1 IoU of each query's first predicted window (file order)."""
    out = np.zeros(len(pred_windows))
    for q, (pred, gts) in enumerate(zip(pred_windows, gt_windows)):
        if len(pred) == 0:
            continue  # no window: a miss
        start, end = float(pred[0][0]), float(pred[0][1])
        # The best-overlapping GT window (first one on ties, first NaN if
        # any) ...
        gt_start, gt_end = gts[int(
            np.argmax(reference_iou_row((start, end), gts)))]
        # ... scored with inter / (max(ends) - min(starts)).
        inter = max(0., min(end, gt_end) - max(start, gt_start))
        hull = max(end, gt_end) - min(start, gt_start)
        out[q] = inter / hull if hull != 0 else 0.
    return out


def reference_hl_ap_one(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """HL AP of one query and one annotator.

    Args:
        y_true (np.ndarray): ``(C,)`` binary labels.
        y_score (np.ndarray): ``(C,)`` scores (already padded/truncated).

    Returns:
        float: 0 if no label is positive, 1 if all are; otherwise the mean
        interpolated precision at the score levels where recall increases.
    """
    total = float(np.sum(y_true))
    if total == 0:
        return 0.
    if total == len(y_true):
        return 1.
    order = sorted(range(len(y_score)), key=lambda i: -y_score[i])
    levels = []  # (precision, tp) per distinct score, highest score first
    tp = 0.
    for rank, i in enumerate(order, 1):
        tp += y_true[i]
        level_ends = rank == len(order) or y_score[order[rank]] != y_score[i]
        if level_ends:
            levels.append((tp / rank, tp))
            if tp == total:
                break  # the curve stops at full recall
    # From full recall back to the top score: running max of precision;
    # a level counts when it holds a positive (recall increases there).
    terms, best = [], 0.
    for k in range(len(levels) - 1, -1, -1):
        precision, tp_k = levels[k]
        best = max(best, precision)
        tp_above = levels[k - 1][1] if k > 0 else 0.
        if tp_k != tp_above:
            terms.append(best)
    return float(np.mean(terms))


def reference_hl_hit_one(pred: np.ndarray, gt_scores: np.ndarray,
                         min_score: float) -> float:
    """HIT@1 of one query: does any annotator rate the top clip positive?"""
    top = int(np.argmax(pred))  # over the FULL prediction list
    if top >= len(gt_scores):
        return 0.
    return float(any(s >= min_score for s in gt_scores[top]))


def reference_tvsum_top5_ap(pred: np.ndarray,
                            labels: np.ndarray,
                            top_k: int = TVSUM_TOP_K) -> np.ndarray:
    """TVSum top-k AP of one video per annotator (stable tie order)."""
    labels = np.asarray(labels, dtype=np.float64)
    pred = list(pred[:len(labels)])
    ranked = sorted(range(len(pred)), key=lambda i: -pred[i])[:top_k]
    out = np.zeros(labels.shape[1])
    for a in range(labels.shape[1]):
        column = labels[:, a]
        median = sorted(column)[(len(column) - 1) // 2]  # lower median
        top = [1. if column[i] > median else 0. for i in ranked]
        num_gt = sum(top)
        if num_gt == 0:
            continue
        hits = ap = rec = 0.
        prc = 1.
        for j, gt in enumerate(top):
            hits += gt
            _rec, _prc = hits / num_gt, hits / (j + 1)
            ap += (_rec - rec) * (prc + _prc) / 2
            rec, prc = _rec, _prc
        out[a] = ap
    return out


def reference_evaluate_qvhighlights(
        submission: Sequence[Dict[str, Any]],
        ground_truth: Sequence[Dict[str, Any]],
        variant: str = 'qvhighlights',
        empty_bucket: str = 'omit',
        strict: bool = False,
        clip_len: float = HL_CLIP_LEN,
        pred_name: str = 'submission',
        gt_name: str = 'ground truth') -> 'OrderedDict[str, object]':
    """Loop version of :func:`~.qvhighlights.evaluate_qvhighlights`.

    Same arguments and output; used to check the vectorised code.
    """
    var = check_options(variant, empty_bucket)
    parsed = parse_submission(submission, ground_truth, pred_name, gt_name,
                              var.with_hl, clip_len, strict)
    mr = None
    if parsed.has_mr:
        mr = OrderedDict()
        for name, bounds in MR_BUCKETS.items():
            preds, gts = [], []
            for pred, gt in zip(parsed.pred_windows, parsed.gt_windows):
                kept = [
                    w for w in gt
                    if bounds is None or bounds[0] < w[1] - w[0] <= bounds[1]
                ]
                if kept:  # queries left without GT windows are dropped
                    preds.append(pred)
                    gts.append(np.array(kept))
            if not preds:
                if empty_bucket == 'omit':
                    continue
                if empty_bucket == 'zeros':
                    mr[name] = empty_bucket_zeros()
                    continue
                preds, gts = parsed.pred_windows, parsed.gt_windows
            mr[name] = mr_section(reference_mr_average_precision(preds, gts),
                                  reference_mr_top1_iou(preds, gts),
                                  MR_MAP_THRESHOLDS, var.r1_thresholds,
                                  var.with_miou)
    hl = None
    if parsed.has_hl:
        hl = OrderedDict()
        for name, min_score in HL_LEVELS:
            aps = np.zeros((len(parsed.qids), 3))
            hits = np.zeros(len(parsed.qids))
            for q, (pred,
                    gt) in enumerate(zip(parsed.pred_scores,
                                         parsed.gt_scores)):
                # Predictions truncated or zero-padded to the GT clips.
                y_score = np.zeros(len(gt))
                n = min(len(gt), len(pred))
                y_score[:n] = pred[:n]
                for a in range(3):
                    y_true = (gt[:, a] >= min_score).astype(np.float64)
                    aps[q, a] = reference_hl_ap_one(y_true, y_score)
                hits[q] = reference_hl_hit_one(pred, gt, min_score)
            hl[f'HL-min-{name}'] = {
                'HL-mAP': percent(np.mean(aps)),
                'HL-Hit1': percent(np.mean(hits)),
            }
    return assemble_results(mr, hl, var.brief_r1, var.with_miou)
