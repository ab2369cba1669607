# Copyright (c) mmmrhd contributors. All rights reserved.
"""Task-result-to-mask converters of TaskWeave's inter-task feedback.

Both converters return float masks ``(B, L)`` computed without gradient
(the official masks come from a comparison or an ``int`` cast).
"""
import torch
from torch import Tensor

from mmmrhd.registry import TASK_UTILS
from mmmrhd.structures.spans import span_cxw_to_xx


def _check_mask(name: str, x: Tensor, video_mask: Tensor, owner: str) -> None:
    if video_mask.dim() != 2 or x.shape[0] != video_mask.shape[0]:
        raise ValueError(f'{owner}: {name} {tuple(x.shape)} and video_mask '
                         f'{tuple(video_mask.shape)} do not match')


@TASK_UTILS.register_module()
class HighlightToMask:
    """Highlightness-to-mask (H2M): ``1[s > mean(s)]`` per sample.

    * ``official_compat=False`` (paper §3.3, default): the mean runs over the
      valid clips; padded clips get 0.
    * ``official_compat=True``: the mean runs over **all** ``L`` positions,
      padding included, and padded clips are marked like valid ones
      (official ``model.py`` L167-170; fixtures README quirk 10).

    The comparison is strict in both modes.

    Args:
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self, official_compat: bool = False) -> None:
        self.official_compat = official_compat

    def __repr__(self) -> str:
        return f'HighlightToMask(official_compat={self.official_compat})'

    @torch.no_grad()
    def __call__(self, scores: Tensor, video_mask: Tensor) -> Tensor:
        """Binarise saliency scores.

        Args:
            scores (Tensor): ``(B, L)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip.

        Returns:
            Tensor: ``(B, L)`` float in {0, 1}.
        """
        _check_mask('scores', scores, video_mask, 'HighlightToMask')
        scores = scores.detach()
        if self.official_compat:
            mean = scores.mean(dim=1, keepdim=True)
            return (scores > mean).to(scores.dtype)
        valid = video_mask.bool()
        mean = scores.masked_fill(~valid, 0).sum(
            dim=1, keepdim=True) / valid.sum(
                dim=1, keepdim=True).clamp(min=1)
        return ((scores > mean) & valid).to(scores.dtype)


@TASK_UTILS.register_module()
class MomentToMask:
    """Moment-to-mask (M2M): per-clip coverage by the predicted moments.

    Every query's span marks the clips it covers; the marks are summed over
    all ``Q`` queries (not score-weighted) and each row is L2-normalised.

    * ``official_compat=False`` (paper §3.3, default): on the sample's own
      clip grid: with ``n`` valid clips and ``(start, end)`` normalised spans,
      clip ``i`` is marked when ``floor(start*n) <= i <= floor(end*n)``
      (both clamped to ``[0, n-1]``), i.e. when the closed span touches the
      clip; this never marks nothing, and it is the clip-grid analogue of the
      official per-second rule. Padded clips stay 0.
    * ``official_compat=True``: the released rule: ``(start, end) * 150``,
      clamped to ``[0, 149]``, truncated with ``.int()``; second ``t`` is
      marked when ``start <= t <= end``; counts are summed over queries and
      the two seconds of each 2-s clip are averaged, giving ``L = 75``
      values (official ``model.py`` L136-151, dead code in the release;
      fixtures README quirk 11). Any other ``L`` raises a ValueError.

    Args:
        official_compat (bool): See above. Defaults to False.
        official_duration (int): Seconds of the official grid. Defaults to
            150.
        official_clip_len (int): Seconds per clip on the official grid.
            Defaults to 2.
    """

    def __init__(self,
                 official_compat: bool = False,
                 official_duration: int = 150,
                 official_clip_len: int = 2) -> None:
        if official_duration % official_clip_len:
            raise ValueError(
                f'MomentToMask: official_duration {official_duration} is not '
                f'a multiple of official_clip_len {official_clip_len}')
        self.official_compat = official_compat
        self.official_duration = official_duration
        self.official_clip_len = official_clip_len

    def __repr__(self) -> str:
        return f'MomentToMask(official_compat={self.official_compat})'

    @torch.no_grad()
    def __call__(self, spans: Tensor, video_mask: Tensor) -> Tensor:
        """Turn predicted spans into a clip mask.

        Args:
            spans (Tensor): Normalised ``(center, width)`` spans
                ``(B, Q, 2)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip (a prefix).

        Returns:
            Tensor: ``(B, L)`` float, rows of unit L2 norm.
        """
        _check_mask('spans', spans, video_mask, 'MomentToMask')
        xx = span_cxw_to_xx(spans.detach())  # (B, Q, 2)
        if self.official_compat:
            return self._official(xx, video_mask)
        num_clips = video_mask.shape[1]
        n = video_mask.sum(dim=1).to(xx.dtype)[:, None]  # (B, 1)
        last_clip = (n - 1).clamp(min=0)
        first = torch.minimum((xx[..., 0] * n).floor().clamp(min=0),
                              last_clip)  # (B, Q)
        last = torch.minimum((xx[..., 1] * n).floor().clamp(min=0), last_clip)
        idx = torch.arange(num_clips, device=xx.device, dtype=xx.dtype)
        covered = (first[..., None] <= idx) & (idx <= last[..., None])
        counts = covered.sum(dim=1).to(xx.dtype) * video_mask.to(xx.dtype)
        return counts / counts.norm(p=2, dim=1, keepdim=True).clamp(min=1e-12)

    def _official(self, xx: Tensor, video_mask: Tensor) -> Tensor:
        dur, clip_len = self.official_duration, self.official_clip_len
        num_clips = dur // clip_len
        if video_mask.shape[1] != num_clips:
            raise ValueError(
                f'MomentToMask(official_compat=True) needs L == {num_clips} '
                f'clips (the release hard-codes a {dur}-s grid of '
                f'{clip_len}-s clips), got L={video_mask.shape[1]}')
        sec = torch.clamp(xx * dur, min=0, max=dur - 1).int()  # (B, Q, 2)
        t = torch.arange(dur, device=xx.device)
        covered = (sec[..., 0, None] <= t) & (sec[..., 1, None] >= t)
        counts = covered.to(xx.dtype).sum(dim=1)  # (B, dur)
        pairs = counts.view(-1, num_clips, clip_len)
        mask = pairs.sum(dim=-1) / clip_len  # integer counts: exact
        return mask / torch.norm(mask, p=2, dim=1)[:, None]
