# Copyright (c) mmmrhd contributors. All rights reserved.
"""Sliding windows over long videos and the merge of their predictions.

A detector sees at most ``window_size`` clips (its training ``max_v_l``,
QVHighlights 75 clips = 150 s). A longer video is cut into windows of
exactly ``window_size`` clips, ``stride`` clips apart; the last window is
aligned with the end of the video, so every clip is covered and no window
is shorter than the model's length. Each window is predicted as a video of
its own (TEF, positional encodings and post-processing relative to the
window); the per-window predictions are then merged into video time:

* moments: every window's rows ``[start, end, score]`` are shifted by the
  window's start time, clamped to the video, pooled, sorted by score
  (descending, stable: earlier windows win ties) and reduced by greedy
  temporal NMS (:func:`~mmmrhd.models.post_processors.batched_temporal_nms`,
  the post-processor's NMS) to ``max_windows`` rows;
* saliency: the score of a clip is the mean of the scores that the windows
  covering it gave it.

The same scheme as CONE (Hou et al., ACL 2023: windows of ``max_v_l``
features, proposals shifted by the window start, temporal NMS) without its
window pre-filtering. Moment scores and saliency scores come from
independent forward passes and are not calibrated across windows; the mean
is a plain, order-independent rule, documented in
``docs/en/user_guides/inference.md``.

A video of at most ``window_size`` clips is one window, and its prediction
is returned unchanged (exactly the single-pass result).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmmrhd.models.post_processors import batched_temporal_nms

__all__ = ['window_starts', 'merge_window_predictions']

Rows = List[List[float]]


def window_starts(num_clips: int, window_size: Optional[int],
                  stride: Optional[int]) -> List[int]:
    """First clip of every window.

    Args:
        num_clips (int): Clips of the video (L >= 1).
        window_size (int, optional): Clips per window (W >= 1). None = one
            window over the whole video.
        stride (int, optional): Clips between window starts, ``1 <= stride
            <= W`` (so windows overlap or touch and every clip is covered).
            None = ``max(W // 2, 1)`` (CONE's half-window stride).

    Returns:
        list[int]: ``[0, stride, 2 * stride, ...]`` while the window fits,
        then ``L - W`` (the end-aligned last window) if not already there;
        ``[0]`` when ``L <= W``.
    """
    if num_clips < 1:
        raise ValueError(f'a video needs at least one clip, got {num_clips}')
    if window_size is None or num_clips <= window_size:
        return [0]
    if window_size < 1:
        raise ValueError(f'window_size must be >= 1, got {window_size}')
    if stride is None:
        stride = max(window_size // 2, 1)
    if not 1 <= stride <= window_size:
        raise ValueError(f'stride must be in [1, window_size={window_size}] '
                         f'so that windows cover every clip, got {stride}')
    last = num_clips - window_size
    starts = list(range(0, last, stride))
    starts.append(last)
    return starts


def _round(value: float, decimals: Optional[int]) -> float:
    # the post-processor's string rounding (official float(f'{x:.4f}'))
    return value if decimals is None else float(f'{value:.{decimals}f}')


def merge_window_predictions(
        window_preds: Sequence[Tuple[int, Dict[str, Any]]],
        num_clips: int,
        clip_len: float,
        duration: float,
        nms_thr: Optional[float] = 0.5,
        max_windows: Optional[int] = None,
        decimals: Optional[int] = 4) -> Dict[str, Any]:
    """Merge per-window predictions of one query into video time.

    Args:
        window_preds (Sequence[tuple[int, dict]]): ``(start_clip, pred)``
            per window, ``pred`` a post-processed prediction in window time
            (``pred_relevant_windows`` rows sorted by score,
            ``pred_saliency_scores`` one per clip of the window, optional).
        num_clips (int): Clips of the whole video.
        clip_len (float): Seconds per clip.
        duration (float): Video duration in seconds (windows are clamped to
            ``[0, duration]``).
        nms_thr (float, optional): IoU above which a lower-scored window is
            suppressed. None = no NMS (pool and sort only).
        max_windows (int, optional): Rows kept. None = as many as one window
            returned (the detector's number of moment queries).
        decimals (int, optional): Rounding of shifted values (the
            post-processor's 4 decimals); None = none.

    Returns:
        dict: The first window's prediction dict with
        ``pred_relevant_windows`` (merged rows) and ``pred_saliency_scores``
        (``num_clips`` floats, when the windows have saliency) replaced. A
        single window at clip 0 is returned as it is.
    """
    if not window_preds:
        raise ValueError('merge_window_predictions got no window')
    if len(window_preds) == 1 and window_preds[0][0] == 0:
        return dict(window_preds[0][1])
    merged = dict(window_preds[0][1])
    rows: Rows = []
    for start, pred in window_preds:
        offset = start * clip_len
        for st, ed, score in pred['pred_relevant_windows']:
            st = min(max(st + offset, 0.0), duration)
            ed = min(max(ed + offset, 0.0), duration)
            rows.append([_round(st, decimals), _round(ed, decimals), score])
    if max_windows is None:
        max_windows = max(
            len(p['pred_relevant_windows']) for _, p in window_preds)
    rows.sort(key=lambda r: -r[2])  # stable: earlier windows win ties
    if nms_thr is not None and rows:
        windows = torch.tensor([r[:2] for r in rows],
                               dtype=torch.float64)[None]
        keep = batched_temporal_nms(
            windows, nms_thr, max_before_nms=None,
            max_after_nms=max_windows)[0]
        rows = [r for r, k in zip(rows, keep.tolist()) if k]
    merged['pred_relevant_windows'] = rows[:max_windows]
    if all('pred_saliency_scores' in p for _, p in window_preds):
        merged['pred_saliency_scores'] = _mean_saliency(
            window_preds, num_clips)
    else:
        merged.pop('pred_saliency_scores', None)
    return merged


def _mean_saliency(window_preds: Sequence[Tuple[int, Dict[str, Any]]],
                   num_clips: int) -> List[float]:
    """Per clip, the mean score of the windows that cover it."""
    total = np.zeros(num_clips, dtype=np.float64)
    count = np.zeros(num_clips, dtype=np.int64)
    for start, pred in window_preds:
        scores = np.asarray(pred['pred_saliency_scores'], dtype=np.float64)
        end = start + len(scores)
        if start < 0 or end > num_clips:
            raise ValueError(
                f'window at clip {start} with {len(scores)} saliency scores '
                f'reaches past the video ({num_clips} clips)')
        total[start:end] += scores
        count[start:end] += 1
    if (count == 0).any():
        gap = int(np.argmin(count))
        raise ValueError(f'clip {gap} is covered by no window')
    return (total / count).tolist()
