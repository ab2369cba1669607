# Copyright (c) mmmrhd contributors. All rights reserved.
"""Negative-pair saliency loss (QD-DETR)."""
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape, get_key

_MODES = ('official', 'softplus')


def neg_pair_loss(saliency_scores_neg: Tensor,
                  video_mask: Tensor,
                  mode: str = 'official') -> Tensor:
    """Push the clip scores of a mismatched (video, text) pair down.

    ``mean_b sum_t m_bt * -log(1 - sigmoid(s-_bt))`` (QD-DETR
    ``SetCriterion.loss_saliency``). ``-log(1 - sigmoid(s))`` equals
    ``softplus(s)``:

    * ``'official'`` evaluates the literal formula, bitwise equal to the
      official code. In float32 ``sigmoid(s)`` rounds to exactly 1 for
      ``s > 16.64``, so the loss becomes ``+inf`` and every gradient NaN,
      even for a padded clip (``inf * 0 = NaN``); it also loses precision
      well before that.
    * ``'softplus'`` evaluates ``F.softplus(s)``: mathematically equal,
      finite for every finite score (on the TaskWeave fixtures it differs
      from the literal form by about 1e-7 relative).

    Args:
        saliency_scores_neg (Tensor): Clip scores of the negative pair
            ``(B, L)``.
        video_mask (Tensor): ``(B, L)``, 1 = valid clip.
        mode (str): ``'official'`` or ``'softplus'``.

    Returns:
        Tensor: Scalar loss.
    """
    owner = 'NegPairLoss'
    check_shape(saliency_scores_neg, (None, None), owner,
                'saliency_scores_neg')
    check_shape(video_mask, tuple(saliency_scores_neg.shape), owner,
                'video_mask')
    if mode == 'official':
        per_clip = -torch.log(1. - torch.sigmoid(saliency_scores_neg))
    elif mode == 'softplus':
        per_clip = F.softplus(saliency_scores_neg)
    else:
        raise ValueError(f"{owner}: mode must be one of {_MODES}, got "
                         f"'{mode}'")
    return (per_clip * video_mask).sum(dim=1).mean()


@MODELS.register_module()
class NegPairLoss(nn.Module):
    """:func:`neg_pair_loss` as a :class:`SaliencyCriterion` term.

    Reads ``outputs['saliency_scores_neg']`` and ``outputs['video_mask']``.

    Args:
        mode (str): ``'official'`` (literal ``-log(1 - sigmoid(s))``, default)
            or ``'softplus'`` (stable, equal form).
    """

    #: Logging name of the term (the key used in the official fixtures).
    name = 'neg_pair'

    def __init__(self, mode: str = 'official') -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"NegPairLoss: mode must be one of {_MODES}, "
                             f"got '{mode}'")
        self.mode = mode

    def extra_repr(self) -> str:
        return f"mode='{self.mode}'"

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Tensor:
        """Compute the loss from the model outputs.

        Args:
            outputs (Mapping): Needs ``saliency_scores_neg`` and
                ``video_mask``, both ``(B, L)``.
            targets (Mapping): Unused.

        Returns:
            Tensor: Scalar loss.
        """
        owner = self.__class__.__name__
        return neg_pair_loss(
            get_key(outputs, 'saliency_scores_neg', owner, 'outputs'),
            get_key(outputs, 'video_mask', owner, 'outputs'),
            mode=self.mode)
