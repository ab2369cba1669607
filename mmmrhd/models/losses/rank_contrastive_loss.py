# Copyright (c) mmmrhd contributors. All rights reserved.
"""Rank-aware contrastive saliency loss (QD-DETR)."""
from typing import Any, Mapping, Optional

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape, get_key, sequential_sum

#: Score given to padded clips before the softmax (official
#: ``saliency_scores = m * s + (1 - m) * -1e+3``, QD-DETR model.py L311).
MASKED_SCORE = -1e+3
#: Added to the softmax normaliser and to the positive count (official
#: ``+ 1e-6`` in both places, QD-DETR model.py L335 and L337).
EPS = 1e-6


def rank_contrastive_loss(saliency_scores: Tensor,
                          video_mask: Tensor,
                          saliency_labels: Tensor,
                          saliency_scores_neg: Optional[Tensor] = None,
                          tau: float = 0.5,
                          num_ranks: int = 11,
                          denominator: float = 12.0) -> Tensor:
    """Supervised-contrastive loss over the saliency rank levels.

    For each rank ``r = 1..num_ranks`` the clips with label ``>= r`` are the
    positives of a softmax over all (valid) clips of the row:

    .. math::

        \\mathcal{L} = \\frac{1}{D} \\sum_{r} \\frac{1}{B} \\sum_b
            -\\frac{\\sum_t P^r_{bt} m_{bt} \\log p_{bt}}
                   {\\sum_t P^r_{bt} + 10^{-6}},
        \\quad \\log p_{bt} = z_{bt} - \\log(\\sum_{t'} e^{z_{bt'}} + 10^{-6})

    with ``z = (m s + (1 - m) (-1000)) / tau`` shifted by its row maximum
    (QD-DETR ``SetCriterion.loss_saliency``). Quirks kept: padded clips are
    set to -1000 (not excluded) in the normaliser, ``D = 12`` although there
    are 11 ranks, and a rank without any positive in the batch contributes 0
    (the official loop skips it; every row of such a rank is 0 here). The
    official "drop higher ranks" mask (labels > 100) never fires and is
    omitted. All ranks are evaluated as one ``(R, B, L')`` tensor op; only
    the final sum of the ``R`` per-rank means runs in the official order.

    Args:
        saliency_scores (Tensor): Clip scores ``(B, L)``.
        video_mask (Tensor): ``(B, L)``, 1 = valid clip.
        saliency_labels (Tensor): ``(B, L)`` per-clip saliency (the sum of
            the annotators' scores, 0 for irrelevant and padded clips).
        saliency_scores_neg (Tensor, optional): Scores ``(B, L)`` of the
            negative (mismatched text) pass. When given (QD-DETR, TaskWeave,
            VideoLights) they are appended as extra clips with label 0;
            TR-DETR passes None.
        tau (float): Temperature. Defaults to 0.5.
        num_ranks (int): Highest rank level. Defaults to 11.
        denominator (float): Final divisor. Defaults to 12 (official).

    Returns:
        Tensor: Scalar loss.
    """
    owner = 'RankContrastiveLoss'
    check_shape(saliency_scores, (None, None), owner, 'saliency_scores')
    shape = tuple(saliency_scores.shape)
    check_shape(video_mask, shape, owner, 'video_mask')
    check_shape(saliency_labels, shape, owner, 'saliency_all_labels')
    if saliency_scores_neg is not None:
        check_shape(saliency_scores_neg, shape, owner, 'saliency_scores_neg')
        saliency_scores = torch.cat([saliency_scores, saliency_scores_neg],
                                    dim=1)
        saliency_labels = torch.cat(
            [saliency_labels, torch.zeros_like(saliency_labels)], dim=1)
        video_mask = video_mask.repeat(1, 2)
    video_mask = video_mask.to(saliency_scores)
    saliency_labels = saliency_labels.to(saliency_scores.device)
    scores = video_mask * saliency_scores + (1. - video_mask) * MASKED_SCORE
    logits = scores / tau  # (B, L')
    logits = logits - torch.max(logits, dim=1, keepdim=True)[0]
    log_prob = logits - torch.log(
        torch.exp(logits).sum(1, keepdim=True) + EPS)  # (B, L')
    ranks = torch.arange(
        1, num_ranks + 1, device=saliency_labels.device).view(-1, 1, 1)
    pos_mask = saliency_labels.unsqueeze(0) >= ranks  # (R, B, L')
    num_pos = pos_mask.sum(-1)  # (R, B)
    mean_log_prob_pos = (pos_mask * log_prob * video_mask).sum(-1) / (
        num_pos + EPS)  # (R, B)
    loss = -mean_log_prob_pos * (num_pos > 0)  # (R, B)
    # The official loop accumulates the R per-rank batch means one by one in
    # float32; summing the R scalars in that order (instead of ``.sum()``)
    # keeps the result bitwise equal.
    return sequential_sum(loss.mean(-1).unbind(0)) / denominator


@MODELS.register_module()
class RankContrastiveLoss(nn.Module):
    """:func:`rank_contrastive_loss` as a :class:`SaliencyCriterion` term.

    Reads ``outputs['saliency_scores']``, ``outputs['video_mask']``,
    ``targets['saliency_all_labels']`` and, with ``with_neg=True``,
    ``outputs['saliency_scores_neg']``.

    Args:
        with_neg (bool): Append the negative-pass scores as label-0 clips
            (QD-DETR, TaskWeave, VideoLights). False for TR-DETR. Defaults to
            True.
        tau (float): Temperature. Defaults to 0.5.
        num_ranks (int): Highest rank level. Defaults to 11.
        denominator (float): Final divisor. Defaults to 12.
    """

    #: Logging name of the term (the key used in the official fixtures).
    name = 'rank_contrastive'

    def __init__(self,
                 with_neg: bool = True,
                 tau: float = 0.5,
                 num_ranks: int = 11,
                 denominator: float = 12.0) -> None:
        super().__init__()
        if num_ranks < 1 or tau <= 0 or denominator == 0:
            raise ValueError(
                'RankContrastiveLoss: need num_ranks >= 1, tau > 0 and '
                f'denominator != 0, got num_ranks={num_ranks}, tau={tau}, '
                f'denominator={denominator}')
        self.with_neg = with_neg
        self.tau = tau
        self.num_ranks = num_ranks
        self.denominator = denominator

    def extra_repr(self) -> str:
        return (f'with_neg={self.with_neg}, tau={self.tau}, '
                f'num_ranks={self.num_ranks}, '
                f'denominator={self.denominator}')

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Tensor:
        """Compute the loss from the model outputs and batched targets.

        Args:
            outputs (Mapping): Needs ``saliency_scores``, ``video_mask`` and,
                with ``with_neg``, ``saliency_scores_neg``, all ``(B, L)``.
            targets (Mapping): Needs ``saliency_all_labels`` ``(B, L)``.

        Returns:
            Tensor: Scalar loss.
        """
        owner = self.__class__.__name__
        scores_neg = None
        if self.with_neg:
            scores_neg = get_key(outputs, 'saliency_scores_neg', owner,
                                 'outputs')
        return rank_contrastive_loss(
            get_key(outputs, 'saliency_scores', owner, 'outputs'),
            get_key(outputs, 'video_mask', owner, 'outputs'),
            get_key(targets, 'saliency_all_labels', owner, 'targets'),
            saliency_scores_neg=scores_neg,
            tau=self.tau,
            num_ranks=self.num_ranks,
            denominator=self.denominator)
