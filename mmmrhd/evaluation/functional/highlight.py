# Copyright (c) mmmrhd contributors. All rights reserved.
"""Vectorised highlight-detection metrics of QVHighlights: HL AP and HIT@1.

Reproduces moment_detr ``standalone_eval/eval.py`` (``compute_hl_ap``,
``compute_hl_hit1``, ``mk_gt_scores``) and ``utils.py get_ap`` (built on
scikit-learn's ``precision_recall_curve``) without scikit-learn.
"""
from typing import Any, Dict, Sequence

import numpy as np

from .ragged import prefix_sums, ragged_to_padded

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
        # (Q, A, width) labels, one contiguous row per (query, annotator).
        self.sorted_gt_t = np.ascontiguousarray(
            self.sorted_gt.transpose(0, 2, 1))
        s = self.sorted_scores
        # A score level ends where the next (lower) score differs; every
        # position knows the end of its level.
        level_end = np.ones_like(s, dtype=bool)
        level_end[:, :-1] = s[:, :-1] != s[:, 1:]
        self.level_end = level_end
        pos = np.where(level_end, np.arange(width), width)
        self.level_end_pos = np.minimum.accumulate(pos[:, ::-1],
                                                   axis=1)[:, ::-1]

    def average_precision(self, min_score: float) -> np.ndarray:
        """HL AP of every query and annotator at one positive threshold.

        ``get_ap``: AP 0 if the annotator has no positive clip, 1 if all
        clips are positive; otherwise the mean, over the distinct score
        levels at which recall increases (ordered from low to high score as
        in scikit-learn's curve), of the interpolated precision (max
        precision at that or any higher recall).

        Only the levels holding a positive clip are visited (a level without
        one never raises the interpolated precision of a higher level: it
        has the same TP count as the level above it and a larger rank), so
        the work is proportional to the number of positive clips.

        Args:
            min_score (float): Positive threshold (2, 3 or 4).

        Returns:
            np.ndarray: ``(Q, 3)`` float64 AP.
        """
        num_q, num_a, width = self.sorted_gt_t.shape
        num_rows = num_q * num_a
        y = (self.sorted_gt_t >= min_score).reshape(num_rows, width)
        clips = np.repeat(self.num_clips, num_a)
        if min_score <= 0:  # padding labels are 0: keep them negative
            y &= np.arange(width)[None, :] < clips[:, None]
        num_pos = np.count_nonzero(y, axis=1)
        ap = np.zeros(num_rows)
        ap[num_pos == clips] = 1.
        mixed = (num_pos > 0) & (num_pos < clips)
        row, pos = np.nonzero(y & mixed[:, None])  # by row, then position
        if row.size:
            ap[mixed] = self._mixed_rows_ap(row, pos, num_a)[mixed]
        return ap.reshape(num_q, num_a)

    def _mixed_rows_ap(self, row: np.ndarray, pos: np.ndarray,
                       num_a: int) -> np.ndarray:
        """AP of the rows holding positive and negative clips.

        Args:
            row (np.ndarray): ``(n,)`` row (query * A + annotator) of each
                positive clip, sorted.
            pos (np.ndarray): ``(n,)`` its sorted position, ascending within
                a row.
            num_a (int): Annotators per query.

        Returns:
            np.ndarray: ``(num_rows,)`` AP (0 for rows without positives).
        """
        num_rows = len(self.num_clips) * num_a
        n = row.size
        end = self.level_end_pos[row // num_a, pos]
        # The last positive of each (row, level) closes a recall step.
        last = np.ones(n, dtype=bool)
        last[:-1] = (row[1:] != row[:-1]) | (end[1:] != end[:-1])
        first = np.ones(n, dtype=bool)
        first[1:] = row[1:] != row[:-1]
        index = np.arange(n)
        row_start = np.maximum.accumulate(np.where(first, index, 0))
        # Precision at the level end: TP so far / rank (sklearn's tps / ps).
        tp = (index - row_start + 1)[last].astype(np.float64)
        precision = tp / (end[last] + 1).astype(np.float64)
        step_row = row[last]
        counts = np.bincount(step_row, minlength=num_rows)
        # Lay each row's steps out from the last (lowest score) to the first:
        # the official terms run from full recall up to the top score, and a
        # running max along that order is the interpolated precision.
        starts = np.cumsum(counts) - counts
        k = np.arange(step_row.size) - starts[step_row]
        col = counts[step_row] - 1 - k
        width = int(counts.max())
        steps = np.zeros((num_rows, width))
        steps[step_row, col] = precision
        interp = np.maximum.accumulate(steps, axis=1)
        # The official np.mean of the terms: np.sum, then / count.
        sums = prefix_sums(interp, counts)
        return np.divide(sums, counts, out=sums, where=counts > 0)


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
