# Copyright (c) mmmrhd contributors. All rights reserved.
"""Margin ranking loss between positive and negative clips (Moment-DETR)."""
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape, get_key


def saliency_hinge_loss(saliency_scores: Tensor,
                        pos_indices: Tensor,
                        neg_indices: Tensor,
                        margin: float = 0.2) -> Tensor:
    """Hinge loss on sampled (positive, negative) clip pairs.

    ``2 / (B K) * sum_{b,k} max(0, margin + s[b, neg_bk] - s[b, pos_bk])``
    (Moment-DETR ``SetCriterion.loss_saliency``; the factor 2 is official,
    "to keep the loss the same scale"). The scores are used unmasked and the
    indices as given (hard and easy pairs alike).

    Args:
        saliency_scores (Tensor): Clip scores ``(B, L)``.
        pos_indices (Tensor): int64 ``(B, K)`` positive clip indices.
        neg_indices (Tensor): int64 ``(B, K)`` negative clip indices.
        margin (float): The margin. Defaults to 0.2 (official
            ``saliency_margin`` of the QVHighlights scripts).

    Returns:
        Tensor: Scalar loss.
    """
    owner = 'SaliencyHingeLoss'
    check_shape(saliency_scores, (None, None), owner, 'saliency_scores')
    batch, length = saliency_scores.shape
    check_shape(pos_indices, (batch, None), owner, 'saliency_pos_labels')
    check_shape(neg_indices, tuple(pos_indices.shape), owner,
                'saliency_neg_labels')
    for name, idx in (('saliency_pos_labels', pos_indices),
                      ('saliency_neg_labels', neg_indices)):
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= length):
            raise ValueError(
                f'{owner}: {name} must index clips in [0, {length}), got '
                f'values in [{int(idx.min())}, {int(idx.max())}]')
    num_pairs = pos_indices.shape[1]
    device = saliency_scores.device
    pos_scores = saliency_scores.gather(1, pos_indices.to(device))  # (B, K)
    neg_scores = saliency_scores.gather(1, neg_indices.to(device))  # (B, K)
    loss = torch.clamp(margin + neg_scores - pos_scores, min=0).sum()
    return loss / (batch * num_pairs) * 2


@MODELS.register_module()
class SaliencyHingeLoss(nn.Module):
    """:func:`saliency_hinge_loss` as a :class:`SaliencyCriterion` term.

    Reads ``outputs['saliency_scores']`` and ``targets['saliency_pos_labels']``
    / ``targets['saliency_neg_labels']``.

    Args:
        margin (float): The margin. Defaults to 0.2.
    """

    #: Logging name of the term (the key used in the official fixtures).
    name = 'hinge'

    def __init__(self, margin: float = 0.2) -> None:
        super().__init__()
        self.margin = margin

    def extra_repr(self) -> str:
        return f'margin={self.margin}'

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Tensor:
        """Compute the loss from the model outputs and batched targets.

        Args:
            outputs (Mapping): Needs ``saliency_scores`` ``(B, L)``.
            targets (Mapping): Needs ``saliency_pos_labels`` and
                ``saliency_neg_labels``, int64 ``(B, K)``.

        Returns:
            Tensor: Scalar loss.
        """
        owner = self.__class__.__name__
        return saliency_hinge_loss(
            get_key(outputs, 'saliency_scores', owner, 'outputs'),
            get_key(targets, 'saliency_pos_labels', owner, 'targets'),
            get_key(targets, 'saliency_neg_labels', owner, 'targets'),
            margin=self.margin)
