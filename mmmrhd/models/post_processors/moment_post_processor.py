# Copyright (c) mmmrhd contributors. All rights reserved.
"""Turn raw DETR-style MR/HD outputs into official prediction records.

Reproduces, value for value, the official QVHighlights inference path of the
moment_detr family (TaskWeave ``inference.py::compute_mr_results`` L191-244
and ``postprocessing_taskweave.py::PostProcessorDETR``; identical in QD-DETR
and TR-DETR):

1. *rank* (``compute_mr_results``): windows = ``span_cxw_to_xx(spans) *
   duration`` in float32, rows ``[start, end, score]`` sorted by score
   descending (stable, on the unrounded values), every value rounded to 4
   decimals via ``float(f'{x:.4f}')``;
2. *refine* (``PostProcessorDETR(clip_length=2, min_ts_val=0,
   max_ts_val=150, process_func_names=('clip_ts', 'round_multiple'))``):
   a float32 tensor is rebuilt from the rounded rows, windows are clamped to
   ``[0, 150]`` and rounded to multiples of the clip length with
   ``torch.round`` (half to even), the score is re-rounded to 4 decimals;
3. optional temporal NMS (official ``nms_thd=-1``: off);
4. ``pred_saliency_scores`` = saliency cast to float16 and cut to the valid
   length ``int(video_mask.sum())``.
"""
import math
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import Tensor

from mmmrhd.registry import TASK_UTILS
from mmmrhd.structures.spans import span_cxw_to_xx
from .temporal_nms import batched_temporal_nms

Rows = List[List[float]]

_SALIENCY_DTYPES = {
    'float16': torch.float16,
    'float32': torch.float32,
    'float64': torch.float64,
}
_REQUIRED_FIELDS = ('qid', 'query', 'vid', 'duration')


@TASK_UTILS.register_module()
class MomentPostProcessor:
    """Official post-processing of moment windows and saliency scores.

    The defaults are the official QVHighlights settings. ``max_ts=None``
    clamps every window to its own video, ``[min_ts, duration]``, instead of
    the fixed official ``[0, 150]``: the official bound is only right for
    QVHighlights' 150-s videos; on other data (Charades-STA, the demo data,
    custom videos) the duration bound is the sane choice. With clip
    rounding on, a duration that is not a multiple of ``clip_len`` can still
    be exceeded by less than ``clip_len / 2`` (the rounding comes after the
    clamp, as in the official order).

    Args:
        clip_len (float): Clip length in seconds, the rounding unit
            (official ``clip_length=2``).
        min_ts (float, optional): Lower clamp bound in seconds (official 0).
            None = no lower clamp.
        max_ts (float, optional): Upper clamp bound in seconds (official
            150). None = the sample's ``duration``.
        round_to_clip (bool): Round window bounds to multiples of
            ``clip_len`` (official ``round_multiple``). Defaults to True.
        sort (bool): Sort windows by score, descending (official unless
            ``--no_sort_results``). Defaults to True.
        decimals (int, optional): Decimals of the ``float(f'{x:.4f}')``
            rounding applied to every value after ranking and to the score
            after refining (official 4). None = no rounding.
        saliency_dtype (str, optional): Cast of ``pred_saliency_scores``
            before conversion to Python floats: 'float16' (official),
            'float32', 'float64' or None (keep the input dtype).
        nms_thr (float, optional): Temporal NMS IoU threshold in ``[0, 1]``
            (official ``nms_thd``; -1 there = off). None = no NMS.
        max_before_nms (int): Windows entering NMS (official 10).
        max_after_nms (int): Windows kept by NMS (official 10).
        num_windows (int, optional): Keep only the top ``num_windows``
            windows at the end. None = all (official: all Q).
    """

    def __init__(self,
                 clip_len: float = 2.0,
                 min_ts: Optional[float] = 0.0,
                 max_ts: Optional[float] = 150.0,
                 round_to_clip: bool = True,
                 sort: bool = True,
                 decimals: Optional[int] = 4,
                 saliency_dtype: Optional[str] = 'float16',
                 nms_thr: Optional[float] = None,
                 max_before_nms: int = 10,
                 max_after_nms: int = 10,
                 num_windows: Optional[int] = None) -> None:
        if not clip_len > 0:
            raise ValueError(f'clip_len must be > 0, got {clip_len}')
        if (min_ts is not None and max_ts is not None and min_ts > max_ts):
            raise ValueError(f'min_ts ({min_ts}) must be <= max_ts ({max_ts})')
        if decimals is not None and decimals < 0:
            raise ValueError(f'decimals must be >= 0 or None, got {decimals}')
        if saliency_dtype is not None and \
                saliency_dtype not in _SALIENCY_DTYPES:
            raise ValueError(
                f'saliency_dtype must be one of {sorted(_SALIENCY_DTYPES)} '
                f'or None, got {saliency_dtype!r}')
        if nms_thr is not None and not 0 <= nms_thr <= 1:
            raise ValueError(f'nms_thr must be in [0, 1] or None, '
                             f'got {nms_thr}')
        for name, value in (('max_before_nms', max_before_nms),
                            ('max_after_nms', max_after_nms),
                            ('num_windows', num_windows)):
            if value is not None and value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        self.clip_len = clip_len
        self.min_ts = min_ts
        self.max_ts = max_ts
        self.round_to_clip = round_to_clip
        self.sort = sort
        self.decimals = decimals
        self.saliency_dtype = saliency_dtype
        self.nms_thr = nms_thr
        self.max_before_nms = max_before_nms
        self.max_after_nms = max_after_nms
        self.num_windows = num_windows

    def __repr__(self) -> str:
        fields = ('clip_len', 'min_ts', 'max_ts', 'round_to_clip', 'sort',
                  'decimals', 'saliency_dtype', 'nms_thr', 'max_before_nms',
                  'max_after_nms', 'num_windows')
        args = ', '.join(f'{k}={getattr(self, k)!r}' for k in fields)
        return f'{self.__class__.__name__}({args})'

    def __call__(self,
                 pred_spans: Tensor,
                 pred_scores: Tensor,
                 saliency_scores: Optional[Tensor],
                 video_mask: Optional[Tensor],
                 data_samples: Sequence[Dict[str, Any]]
                 ) -> List[Dict[str, Any]]:
        """Post-process a batch into prediction dicts.

        Args:
            pred_spans (Tensor): Normalised ``(center, width)`` spans of shape
                ``(B, Q, 2)``.
            pred_scores (Tensor): Foreground probability of each span,
                ``(B, Q)`` (official ``softmax(pred_logits)[..., 0]``).
            saliency_scores (Tensor, optional): Clip saliency ``(B, L)``.
                None for models without highlight detection.
            video_mask (Tensor, optional): ``(B, L)``, 1 = valid clip.
                Required with ``saliency_scores``.
            data_samples (Sequence[dict]): Per-sample dicts with ``qid``,
                ``query``, ``vid``, ``duration`` (seconds) and optionally
                ``ann`` (passed through).

        Returns:
            list[dict]: Per sample ``qid, query, vid, duration,
            pred_relevant_windows`` (``[[start, end, score], ...]``),
            ``pred_saliency_scores`` (``valid_len`` floats; only with
            saliency) and ``ann`` (when the data sample has it).
        """
        durations = self._check_inputs(pred_spans, pred_scores,
                                       saliency_scores, video_mask,
                                       data_samples)
        ranked = self.rank_windows(pred_spans, pred_scores, durations)
        windows = self.refine_windows(ranked, durations)
        saliency = None
        if saliency_scores is not None:
            saliency = self.format_saliency(saliency_scores, video_mask)
        results = []
        for i, sample in enumerate(data_samples):
            result = {k: sample[k] for k in _REQUIRED_FIELDS}
            result['pred_relevant_windows'] = windows[i]
            if saliency is not None:
                result['pred_saliency_scores'] = saliency[i]
            if 'ann' in sample:
                result['ann'] = sample['ann']
            results.append(result)
        return results

    def rank_windows(self, pred_spans: Tensor, pred_scores: Tensor,
                     durations: Sequence[float]) -> List[Rows]:
        """Stage 1: de-normalise, sort and round (``compute_mr_results``).

        Args:
            pred_spans (Tensor): Normalised ``(center, width)`` spans,
                ``(B, Q, 2)``.
            pred_scores (Tensor): Scores ``(B, Q)``.
            durations (Sequence[float]): Video durations in seconds, ``B``.

        Returns:
            list[list[list[float]]]: Per sample, ``Q`` rows
            ``[start, end, score]`` in seconds.
        """
        spans = pred_spans.detach().float().cpu()
        scores = pred_scores.detach().float().cpu()
        scale = torch.tensor(durations, dtype=torch.float32)
        # float32 times the float32 duration: bitwise equal to the official
        # per-sample `span_cxw_to_xx(spans) * meta['duration']`.
        windows = span_cxw_to_xx(spans) * scale[:, None, None]  # (B, Q, 2)
        rows = torch.cat([windows, scores[..., None]], dim=-1)  # (B, Q, 3)
        if self.sort:
            order = scores.argsort(dim=1, descending=True, stable=True)
            rows = rows.gather(1, order[..., None].expand_as(rows))
        return [[[self._round(v) for v in row] for row in sample]
                for sample in rows.tolist()]

    def refine_windows(self, ranked: Sequence[Rows],
                       durations: Sequence[float]) -> List[Rows]:
        """Stage 2: clamp, round to clips, NMS, truncate (PostProcessorDETR).

        Args:
            ranked (Sequence[list]): Output of :meth:`rank_windows`: per
                sample, rows ``[start, end, score]`` sorted by score.
            durations (Sequence[float]): Video durations in seconds, ``B``.

        Returns:
            list[list[list[float]]]: Per sample, the refined rows.
        """
        if len(ranked) == 0:
            return []
        rows = torch.tensor(ranked, dtype=torch.float32).reshape(
            len(ranked), len(ranked[0]), 3)  # (B, Q, 3)
        windows = rows[..., :2]
        if self.min_ts is not None:
            windows = windows.clamp(min=self.min_ts)
        if self.max_ts is not None:
            windows = windows.clamp(max=self.max_ts)
        else:
            bound = torch.tensor(durations, dtype=torch.float32)
            windows = torch.minimum(windows, bound[:, None, None])
        if self.round_to_clip:
            # torch.round rounds half to even, as the official code does.
            windows = torch.round(windows / self.clip_len) * self.clip_len
        keep = torch.ones(rows.shape[:2], dtype=torch.bool)
        if self.nms_thr is not None:
            keep = batched_temporal_nms(windows, self.nms_thr,
                                        self.max_before_nms,
                                        self.max_after_nms)
        refined = []
        for sample_windows, sample_scores, sample_keep in zip(
                windows.tolist(), rows[..., 2].tolist(), keep.tolist()):
            sample_rows = [
                [start, end, self._round(score)]
                for (start, end), score, kept in zip(
                    sample_windows, sample_scores, sample_keep) if kept
            ]
            refined.append(sample_rows[:self.num_windows])
        return refined

    def format_saliency(self, saliency_scores: Tensor,
                        video_mask: Tensor) -> List[List[float]]:
        """Cast and cut the saliency scores to each sample's valid length.

        Args:
            saliency_scores (Tensor): ``(B, L)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip.

        Returns:
            list[list[float]]: Per sample, ``int(video_mask[i].sum())``
            Python floats.
        """
        scores = saliency_scores.detach().cpu()
        if self.saliency_dtype is not None:
            scores = scores.to(_SALIENCY_DTYPES[self.saliency_dtype])
        lengths = video_mask.detach().cpu().sum(dim=1).tolist()
        return [scores[i, :int(n)].tolist() for i, n in enumerate(lengths)]

    def _round(self, value: float) -> float:
        """Official string rounding ``float(f'{value:.4f}')``."""
        if self.decimals is None:
            return value
        return float(f'{value:.{self.decimals}f}')

    @staticmethod
    def _check_inputs(pred_spans: Tensor, pred_scores: Tensor,
                      saliency_scores: Optional[Tensor],
                      video_mask: Optional[Tensor],
                      data_samples: Sequence[Dict[str, Any]]) -> List[float]:
        """Validate shapes and data samples; return the durations."""
        if pred_spans.dim() != 3 or pred_spans.shape[-1] != 2:
            raise ValueError('pred_spans must have shape (B, Q, 2), got '
                             f'{tuple(pred_spans.shape)}')
        if tuple(pred_scores.shape) != tuple(pred_spans.shape[:2]):
            raise ValueError(
                f'pred_scores must have shape {tuple(pred_spans.shape[:2])} '
                f'(B, Q) to match pred_spans, got {tuple(pred_scores.shape)}')
        num_samples = pred_spans.shape[0]
        if len(data_samples) != num_samples:
            raise ValueError(f'got {len(data_samples)} data samples for a '
                             f'batch of {num_samples} predictions')
        if saliency_scores is not None:
            if video_mask is None:
                raise ValueError('video_mask is required with saliency_scores')
            if saliency_scores.dim() != 2 or \
                    saliency_scores.shape[0] != num_samples:
                raise ValueError(
                    f'saliency_scores must have shape ({num_samples}, L), '
                    f'got {tuple(saliency_scores.shape)}')
            if tuple(video_mask.shape) != tuple(saliency_scores.shape):
                raise ValueError(
                    f'video_mask shape {tuple(video_mask.shape)} does not '
                    'match saliency_scores shape '
                    f'{tuple(saliency_scores.shape)}')
        finite = (torch.isfinite(pred_spans).flatten(1).all(dim=1)
                  & torch.isfinite(pred_scores).all(dim=1)).tolist()
        durations = []
        for i, sample in enumerate(data_samples):
            for key in _REQUIRED_FIELDS:
                if key not in sample:
                    raise KeyError(
                        f'data sample {i} (qid {sample.get("qid")!r}) has no '
                        f'{key!r} field, needed for post-processing')
            duration = float(sample['duration'])
            if not (math.isfinite(duration) and duration > 0):
                raise ValueError(f'data sample {i} (qid {sample["qid"]!r}) '
                                 f'has an invalid duration {duration}')
            if not finite[i]:
                raise ValueError(f'non-finite predicted span or score for '
                                 f'data sample {i} (qid {sample["qid"]!r})')
            durations.append(duration)
        return durations
