# Copyright (c) mmmrhd contributors. All rights reserved.
"""Vectorised highlight-detection metrics of QVHighlights: HL AP and HIT@1.

Reproduces moment_detr ``standalone_eval/eval.py`` (``compute_hl_ap``,
``compute_hl_hit1``, ``mk_gt_scores``) and ``utils.py get_ap`` (built on
scikit-learn's ``precision_recall_curve``) without scikit-learn.
"""
from typing import Any, Dict, Sequence

import numpy as np

from .ragged import ragged_sum, ragged_to_padded

#: Annotators per QVHighlights clip (eval.py ``mk_gt_scores``:
#: ``np.zeros((num_clips, 3))``).
NUM_ANNOTATORS = 3
#: Positive-label thresholds and names (eval.py ``eval_highlight``:
#: ``gt_saliency_score_min_list = [2, 3, 4]``).
HL_LEVELS = (('Fair', 2), ('Good', 3), ('VeryGood', 4))
#: Clip length in seconds of the HL ground truth (eval.py ``mk_gt_scores``
#: ``clip_length=2``).
HL_CLIP_LEN = 2.0


def gt_saliency_matrix(duration: float,
                       clip_ids: Sequence[int],
                       scores: Sequence[Sequence[float]],
                       clip_len: float = HL_CLIP_LEN) -> np.ndarray:
    """Per-clip annotator scores of one query (unlisted clips score 0).

    Args:
        duration (float): Video duration in seconds.
        clip_ids (Sequence[int]): ``relevant_clip_ids``.
        scores (Sequence[Sequence[float]]): ``saliency_scores``, one
            ``[a1, a2, a3]`` row per clip id.
        clip_len (float): Clip length in seconds. Defaults to 2.

    Returns:
        np.ndarray: ``(int(duration / clip_len), 3)`` float64.
    """
    num_clips = int(duration / clip_len)
    full = np.zeros((num_clips, NUM_ANNOTATORS))
    if len(clip_ids):
        full[np.asarray(clip_ids)] = np.asarray(scores, dtype=np.float64)
    return full


def _pad_rows(rows: Sequence[np.ndarray], fill: float) -> np.ndarray:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), fill)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def hl_hit_at_one(pred_scores: Sequence[np.ndarray],
                  gt_scores: Sequence[np.ndarray],
                  min_score: float) -> np.ndarray:
    """Per-query HIT@1 of highlight detection.

    The top clip is the argmax of the full prediction list (first on ties);
    it hits if any annotator scored it ``>= min_score``; a top clip beyond
    the GT clips misses.

    Args:
        pred_scores (Sequence[np.ndarray]): Per query ``(n_i,)`` saliency.
        gt_scores (Sequence[np.ndarray]): Per query ``(C_i, 3)`` annotator
            scores (:func:`gt_saliency_matrix`).
        min_score (float): Positive threshold (2, 3 or 4).

    Returns:
        np.ndarray: ``(Q,)`` float64 in {0, 1}.
    """
    top = np.argmax(_pad_rows(pred_scores, -np.inf), axis=1)
    hits = np.zeros(len(pred_scores))
    for q, (i, gt) in enumerate(zip(top, gt_scores)):
        if i < len(gt):
            hits[q] = float((gt[i] >= min_score).max())
    return hits


class HighlightRanking:
    """Clips of many queries ranked once by predicted saliency.

    The ranking does not depend on the positive threshold, so HL AP at the
    three thresholds shares it.

    Args:
        pred_scores (Sequence[np.ndarray]): Per query ``(n_i,)`` saliency.
        gt_scores (Sequence[np.ndarray]): Per query ``(C_i, 3)`` annotator
            scores. Predictions are truncated to ``C_i`` or zero-padded up to
            it, as in the official ``compute_ap_from_tuple``.
    """

    def __init__(self, pred_scores: Sequence[np.ndarray],
                 gt_scores: Sequence[np.ndarray]) -> None:
        num_clips = np.array([len(g) for g in gt_scores], dtype=np.int64)
        if len(num_clips) and num_clips.min() < 1:
            raise ValueError('every query needs at least one GT clip')
        width = int(num_clips.max()) if len(num_clips) else 1
        scores = np.zeros((len(gt_scores), width))
        labels = np.zeros((len(gt_scores), width, NUM_ANNOTATORS))
        for q, (p, g) in enumerate(zip(pred_scores, gt_scores)):
            n = min(len(g), len(p))
            scores[q, :n] = p[:n]
            labels[q, :len(g)] = g
        self._setup(scores, labels, num_clips)

    @classmethod
    def from_padded(cls, scores: np.ndarray, labels: np.ndarray,
                    num_clips: np.ndarray) -> 'HighlightRanking':
        """Build from padded arrays (the fast path of :func:`hl_metrics_flat`).

        Args:
            scores (np.ndarray): ``(Q, W)`` predictions, already truncated /
                zero-padded to ``num_clips`` (entries past it are ignored).
            labels (np.ndarray): ``(Q, W, 3)`` annotator scores (0 past
                ``num_clips``).
            num_clips (np.ndarray): ``(Q,)`` GT clips per query (>= 1).
        """
        self = cls.__new__(cls)
        self._setup(scores, labels, np.asarray(num_clips, dtype=np.int64))
        return self

    def _setup(self, scores: np.ndarray, labels: np.ndarray,
               num_clips: np.ndarray) -> None:
        self.num_clips = num_clips
        width = scores.shape[1]
        # Clips past C_i are padding: score -inf, label 0; they rank last
        # and form their own level, which never changes the AP.
        scores = np.where(
            np.arange(width)[None, :] < num_clips[:, None], scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind='stable')
        self.sorted_scores = np.take_along_axis(scores, order, axis=1)
        self.sorted_gt = np.take_along_axis(labels, order[:, :, None], axis=1)
        s = self.sorted_scores
        # A score level ends where the next (lower) score differs.
        self.level_end = np.ones_like(s, dtype=bool)
        self.level_end[:, :-1] = s[:, :-1] != s[:, 1:]
        start = np.ones_like(s, dtype=bool)
        start[:, 1:] = s[:, 1:] != s[:, :-1]
        pos = np.arange(width)
        self.level_start = np.maximum.accumulate(np.where(start, pos, 0),
                                                 axis=1)

    def average_precision(self, min_score: float) -> np.ndarray:
        """HL AP of every query and annotator at one positive threshold.

        ``get_ap``: AP 0 if the annotator has no positive clip, 1 if all
        clips are positive; otherwise the mean, over the distinct score
        levels at which recall increases (ordered from low to high score as
        in scikit-learn's curve), of the interpolated precision (max
        precision at that or any higher recall).

        Args:
            min_score (float): Positive threshold (2, 3 or 4).

        Returns:
            np.ndarray: ``(Q, 3)`` float64 AP.
        """
        num_q, width = self.sorted_scores.shape
        # (Q, A, width) rows, one per (query, annotator).
        y = (self.sorted_gt >= min_score).astype(np.float64).transpose(0, 2, 1)
        tp = np.cumsum(y, axis=-1)
        rank = np.arange(1, width + 1, dtype=np.float64)
        level_end = np.broadcast_to(self.level_end[:, None, :], y.shape)
        precision = np.where(level_end, tp / rank, 0.)
        interp = np.maximum.accumulate(precision[..., ::-1],
                                       axis=-1)[..., ::-1]
        start = np.broadcast_to(self.level_start[:, None, :], y.shape)
        tp_before = np.where(
            start > 0, np.take_along_axis(tp,
                                          np.maximum(start - 1, 0),
                                          axis=-1), 0.)
        increase = level_end & (tp > tp_before)
        # The official terms run from the full-recall level up to the top
        # score, i.e. by descending position.
        terms = interp[..., ::-1][increase[..., ::-1]]
        counts = increase.sum(axis=-1).reshape(-1)
        sums = ragged_sum(terms, counts)
        ap = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        ap = ap.reshape(num_q, NUM_ANNOTATORS)
        num_pos = tp[..., -1]
        ap[num_pos == 0] = 0.
        ap[num_pos == self.num_clips[:, None]] = 1.
        return ap


def hl_metrics(pred_scores: Sequence[np.ndarray],
               gt_scores: Sequence[np.ndarray]) -> Dict[str, Any]:
    """Per-query HL AP and HIT@1 at the three official thresholds.

    Args:
        pred_scores (Sequence[np.ndarray]): Per query ``(n_i,)`` saliency.
        gt_scores (Sequence[np.ndarray]): Per query ``(C_i, 3)`` scores.

    Returns:
        dict: ``{name: {'ap': (Q, 3), 'hit1': (Q,)}}`` for the names of
        :data:`HL_LEVELS`.
    """
    ranking = HighlightRanking(pred_scores, gt_scores)
    return {
        name:
        dict(ap=ranking.average_precision(min_score),
             hit1=hl_hit_at_one(pred_scores, gt_scores, min_score))
        for name, min_score in HL_LEVELS
    }


#: Queries evaluated at once by :func:`hl_metrics_flat`.
HL_CHUNK_QUERIES = 2048


def hl_metrics_flat(pred: np.ndarray, pred_counts: np.ndarray,
                    gt: np.ndarray, clip_counts: np.ndarray) -> Dict[str, Any]:
    """:func:`hl_metrics` from flat (ragged) arrays, in bounded memory.

    Query ``q`` owns the next ``pred_counts[q]`` entries of ``pred`` and the
    next ``clip_counts[q]`` rows of ``gt``. Queries are processed in chunks
    of :data:`HL_CHUNK_QUERIES`.

    Args:
        pred (np.ndarray): ``(N,)`` predicted saliency, query after query.
        pred_counts (np.ndarray): ``(Q,)`` scores per query (>= 1).
        gt (np.ndarray): ``(C, 3)`` annotator scores (any dtype; only
            compared with the :data:`HL_LEVELS` thresholds).
        clip_counts (np.ndarray): ``(Q,)`` GT clips per query (>= 1).

    Returns:
        dict: As :func:`hl_metrics`.
    """
    pred_counts = np.asarray(pred_counts, dtype=np.int64)
    clip_counts = np.asarray(clip_counts, dtype=np.int64)
    num_q = len(clip_counts)
    out = {
        name: dict(ap=np.zeros((num_q, NUM_ANNOTATORS)), hit1=np.zeros(num_q))
        for name, _ in HL_LEVELS
    }
    p_off = np.concatenate([[0], np.cumsum(pred_counts)])
    g_off = np.concatenate([[0], np.cumsum(clip_counts)])
    for a in range(0, num_q, HL_CHUNK_QUERIES):
        b = min(a + HL_CHUNK_QUERIES, num_q)
        counts, clips = pred_counts[a:b], clip_counts[a:b]
        chunk = pred[p_off[a]:p_off[b]]
        full = ragged_to_padded(chunk, counts, int(counts.max()), -np.inf)
        # HIT@1: argmax of the full prediction list (first on ties).
        top = np.argmax(full, axis=1)
        width = int(clips.max())
        # AP: predictions truncated or zero-padded to the GT clips.
        scores = ragged_to_padded(chunk, counts, width, -np.inf)
        scores[np.isneginf(scores)] = 0.
        labels = ragged_to_padded(gt[g_off[a]:g_off[b]], clips, width, 0)
        ranking = HighlightRanking.from_padded(scores, labels, clips)
        in_range = top < clips
        top_labels = labels[np.arange(b - a), np.minimum(top, width - 1)]
        for name, min_score in HL_LEVELS:
            out[name]['ap'][a:b] = ranking.average_precision(min_score)
            hit = (top_labels >= min_score).any(axis=1) & in_range
            out[name]['hit1'][a:b] = hit
    return out
