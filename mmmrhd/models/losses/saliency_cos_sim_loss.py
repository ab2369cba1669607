# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights' saliency cosine-similarity losses (Uni-JFM, paper eq. 11-12).

Shared by :class:`SaliencyCosSimLoss` (task-specific ``L_ts`` on
``saliency_scores``, task-coupled ``L_tc`` on ``saliency_scores_mr``),
:class:`AdaptiveHardSaliencyLoss` and the video-text alignment term of
:class:`~mmmrhd.models.losses.ContrastiveAlignLoss`.
"""
from typing import Any, Mapping, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape, get_key


def normalized_saliency_pair(scores: Tensor,
                             labels: Tensor,
                             mask: Optional[Tensor],
                             official: bool) -> Tuple[Tensor, Tensor]:
    """Min-shifted, per-row L2-normalised predicted and ground-truth scores.

    Official (VideoLights ``model.py`` L491-499; fixtures README quirk 18)::

        s' = (s - s.min()) / (y.max() - y.min())   # min/max over the BATCH,
                                                   # padding included
        return normalize(s'), normalize(y)         # per row, eps 1e-12

    Default (paper eq. 11: a per-sample cosine of scores and labels): the
    minimum is taken per sample over its valid clips and padded clips are
    zeroed before the normalisation; the division by the label range is
    dropped (the row normalisation cancels it, and it divides by zero when a
    batch has no positive label).

    Args:
        scores (Tensor): Predicted scores ``(B, L)``.
        labels (Tensor): Ground-truth saliency ``(B, L)`` (zero at padding).
        mask (Tensor, optional): ``(B, L)``, 1 = valid clip. Required unless
            ``official``.
        official (bool): Official batch-global normalisation.

    Returns:
        tuple[Tensor, Tensor]: ``(scores_norm, labels_norm)``, both
        ``(B, L)``.
    """
    labels = labels.to(scores.dtype)
    if official:
        shifted = (scores - scores.min()) / (labels.max() - labels.min())
    else:
        valid = mask.to(scores.dtype)
        row_min = scores.masked_fill(valid == 0, float('inf')).amin(
            1, keepdim=True)
        shifted = (scores - row_min) * valid
    return F.normalize(shifted, dim=1, p=2), F.normalize(labels, dim=1, p=2)


def cos_sim_loss(scores_norm: Tensor, labels_norm: Tensor,
                 reduction: str) -> Tensor:
    """``1 - cos(labels_norm_b, scores_norm_b)`` summed or averaged over
    the batch (official: ``'sum'``, paper: ``'mean'``)."""
    err = 1 - F.cosine_similarity(labels_norm, scores_norm, dim=1)
    return err.sum() if reduction == 'sum' else err.mean()


def _check_pair(scores: Tensor, labels: Tensor, owner: str,
                name: str) -> None:
    check_shape(scores, (None, None), owner, name)
    check_shape(labels, tuple(scores.shape), owner, 'saliency_all_labels')


@MODELS.register_module()
class SaliencyCosSimLoss(nn.Module):
    """Cosine-similarity error between predicted and GT saliency.

    ``loss_weight * reduce_b(1 - cos(norm(y_b), norm(s_b)))`` with the
    normalisation of :func:`normalized_saliency_pair`. A
    :class:`SaliencyCriterion` term: VideoLights uses two, ``L_ts`` on
    ``saliency_scores`` (``cos_sim_loss_coef``) and ``L_tc`` on the MR-guided
    ``saliency_scores_mr`` (``mr_to_hd_loss_coef``).

    Args:
        score_key (str): Output key of the scores. Defaults to
            ``'saliency_scores'``.
        name (str): Logging name. Defaults to ``'cos_sim'`` (use
            ``'mr_to_hd'`` for the Uni-JFM term).
        loss_weight (float): Coefficient. Defaults to 1.
        official_compat (bool): Batch-global min/max normalisation and a
            SUM over the batch (models.md §9 VideoLights item 6). Default:
            per-sample masked normalisation and a mean.
    """

    def __init__(self,
                 score_key: str = 'saliency_scores',
                 name: str = 'cos_sim',
                 loss_weight: float = 1.0,
                 official_compat: bool = False) -> None:
        super().__init__()
        self.score_key = score_key
        self.name = name
        self.loss_weight = loss_weight
        self.official_compat = official_compat

    def extra_repr(self) -> str:
        return (f'score_key={self.score_key!r}, loss_weight='
                f'{self.loss_weight}, official_compat={self.official_compat}')

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Tensor:
        """Compute the loss.

        Args:
            outputs (Mapping): ``score_key`` ``(B, L)`` and ``video_mask``.
            targets (Mapping): ``saliency_all_labels`` ``(B, L)``.

        Returns:
            Tensor: Scalar loss.
        """
        owner = type(self).__name__
        scores = get_key(outputs, self.score_key, owner, 'outputs')
        labels = get_key(targets, 'saliency_all_labels', owner, 'targets')
        _check_pair(scores, labels, owner, self.score_key)
        mask = None if self.official_compat else get_key(
            outputs, 'video_mask', owner, 'outputs')
        s, y = normalized_saliency_pair(scores, labels, mask,
                                        self.official_compat)
        reduction = 'sum' if self.official_compat else 'mean'
        return cos_sim_loss(s, y, reduction) * self.loss_weight


@MODELS.register_module()
class AdaptiveHardSaliencyLoss(nn.Module):
    """Adaptive hard positive or hard negative saliency loss (paper §III-D).

    On the normalised pair ``(s, y)`` of :func:`normalized_saliency_pair`
    and the positive-clip indicator ``P`` (``targets['saliency_pos_index']``
    when present, else ``saliency_all_labels > 0``, which is how the
    official dataset builds it)::

        part='pos': W_j * err(y * P, s * P)
        part='neg': W_j * err(y * (1 - P), s * (1 - P))

    ``W_j = epoch_factor * loss_weight``. The loss never reads the epoch:
    :class:`~mmmrhd.engine.hooks.AdaptiveLossScheduleHook` sets
    ``epoch_factor = epoch + 1`` before every training epoch (official
    ``(epoch_i + 1) * hard_pos_neg_loss_coef``, ``model.py`` L407-427);
    without the hook it stays 1 (epoch 0).

    * Official (``official_compat=True``): ``err`` = MSE averaged over all
      ``B * L`` entries, padding included, for both parts.
    * Default (paper eq. 9-10): MSE for the positives and absolute error
      for the negatives, averaged over the valid clips only.

    Args:
        part (str): ``'pos'`` or ``'neg'``.
        loss_weight (float): Official ``hard_pos_neg_loss_coef`` (10 for
            QVHighlights / Charades-STA, 1 for TVSum). Defaults to 10.
        official_compat (bool): See above.
    """

    def __init__(self,
                 part: str,
                 loss_weight: float = 10.0,
                 official_compat: bool = False) -> None:
        super().__init__()
        if part not in ('pos', 'neg'):
            raise ValueError(f"AdaptiveHardSaliencyLoss: part must be 'pos' "
                             f"or 'neg', got {part!r}")
        self.part = part
        self.name = f'hard_{part}'
        self.loss_weight = loss_weight
        self.official_compat = official_compat
        #: Epoch-dependent factor, set by AdaptiveLossScheduleHook.
        self.epoch_factor = 1.0

    def extra_repr(self) -> str:
        return (f'part={self.part!r}, loss_weight={self.loss_weight}, '
                f'epoch_factor={self.epoch_factor}, '
                f'official_compat={self.official_compat}')

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Tensor:
        """Compute the loss.

        Args:
            outputs (Mapping): ``saliency_scores`` ``(B, L)`` and
                ``video_mask``.
            targets (Mapping): ``saliency_all_labels`` ``(B, L)`` and
                optionally ``saliency_pos_index`` ``(B, L)``.

        Returns:
            Tensor: Scalar loss.
        """
        owner = type(self).__name__
        scores = get_key(outputs, 'saliency_scores', owner, 'outputs')
        labels = get_key(targets, 'saliency_all_labels', owner, 'targets')
        _check_pair(scores, labels, owner, 'saliency_scores')
        pos = targets.get('saliency_pos_index')
        if pos is None:
            pos = labels > 0
        check_shape(pos, tuple(scores.shape), owner, 'saliency_pos_index')
        pos = pos.bool()
        mask = get_key(outputs, 'video_mask', owner, 'outputs')
        s, y = normalized_saliency_pair(scores, labels, mask,
                                        self.official_compat)
        sel = pos if self.part == 'pos' else ~pos
        if self.official_compat:
            # Official: F.mse_loss(gt * sel, scores * sel), mean over B*L.
            loss = F.mse_loss(y * sel, s * sel)
        else:
            sel = sel & mask.bool()
            diff = (y - s) * sel
            err = diff.square() if self.part == 'pos' else diff.abs()
            loss = err.sum() / mask.sum().clamp(min=1)
        return loss * (self.epoch_factor * self.loss_weight)
