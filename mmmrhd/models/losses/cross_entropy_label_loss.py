# Copyright (c) mmmrhd contributors. All rights reserved.
"""Foreground/background cross-entropy of the moment queries."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape


@MODELS.register_module()
class CrossEntropyLabelLoss(nn.Module):
    """Class-weighted 2-way cross-entropy, averaged with a plain mean.

    Every query has target class 1 (background) unless it was matched to a
    ground-truth moment (class 0, foreground). The background class has
    weight ``eos_coef``:

    .. math::

        \\mathcal{L} = \\frac{1}{BQ} \\sum_{b,q} -w_{y_{bq}}
                       \\log \\mathrm{softmax}(z_{bq})_{y_{bq}},
        \\qquad w = [1, \\mathrm{eos\\_coef}]

    Note the denominator ``B*Q`` (official ``reduction='none'`` followed by
    ``.mean()``, fixtures README section 12 quirk 3), not the sum of the
    weights that ``F.cross_entropy(..., reduction='mean')`` would use.

    Args:
        eos_coef (float): Weight of the background class. Defaults to 0.1
            (official ``eos_coef``).
    """

    def __init__(self, eos_coef: float = 0.1) -> None:
        super().__init__()
        self.eos_coef = eos_coef
        # Not persistent: the official class weight is a criterion buffer,
        # not part of the model state_dict.
        self.register_buffer(
            'class_weight', torch.tensor([1.0, eos_coef]), persistent=False)

    def extra_repr(self) -> str:
        return f'eos_coef={self.eos_coef}'

    def forward(self, logits: Tensor, target_classes: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            logits (Tensor): Class logits ``(B, Q, 2)``, index 0 = foreground.
            target_classes (Tensor): int64 ``(B, Q)`` with 0 (foreground) or
                1 (background).

        Returns:
            Tensor: Scalar loss.
        """
        check_shape(logits, (None, None, 2), 'CrossEntropyLabelLoss',
                    'logits')
        check_shape(target_classes, tuple(logits.shape[:2]),
                    'CrossEntropyLabelLoss', 'target_classes')
        loss = F.cross_entropy(
            logits.transpose(1, 2),
            target_classes,
            self.class_weight.to(logits),
            reduction='none')  # (B, Q)
        return loss.mean()
