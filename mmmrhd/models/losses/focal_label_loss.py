# Copyright (c) mmmrhd contributors. All rights reserved.
"""Sigmoid focal loss of the moment queries (TR-DETR)."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape


def sigmoid_focal_loss(inputs: Tensor,
                       targets: Tensor,
                       alpha: float = 0.25,
                       gamma: float = 2.0) -> Tensor:
    """Element-wise sigmoid focal loss (Lin et al., ICCV 2017, eq. 5).

    ``FL = alpha_t * (1 - p_t) ** gamma * BCE(x, t)``, with ``p = sigmoid(x)``,
    ``p_t = p t + (1 - p)(1 - t)`` and ``alpha_t = alpha t + (1 - alpha)
    (1 - t)``; ``alpha < 0`` disables the balancing factor. The operations
    follow the order of ``torchvision.ops.sigmoid_focal_loss``, which
    TR-DETR calls (torchvision itself is not a dependency).

    Args:
        inputs (Tensor): Logits of any shape.
        targets (Tensor): Float targets in ``[0, 1]``, same shape.
        alpha (float): Positive-class weight. Defaults to 0.25.
        gamma (float): Focusing exponent. Defaults to 2.

    Returns:
        Tensor: The unreduced loss, same shape as ``inputs``.
    """
    p = inputs.sigmoid()
    ce_loss = F.binary_cross_entropy_with_logits(
        inputs, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t)**gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


@MODELS.register_module()
class SigmoidFocalLabelLoss(nn.Module):
    """TR-DETR's label loss: sigmoid focal loss on both logits.

    The targets are one-hot (foreground = index 0) and the loss is averaged
    over all ``B * 2 * Q`` logits (official TR-DETR ``loss_labels``:
    ``sigmoid_focal_loss(logits.transpose(1, 2), one_hot.permute(0, 2, 1),
    alpha=0.25, gamma=2, reduction='none').mean()``; the same transposed
    layout is used here so that the reduction order matches). There is no
    ``eos_coef``.

    Args:
        alpha (float): Positive-class weight. Defaults to 0.25.
        gamma (float): Focusing exponent. Defaults to 2.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma

    def extra_repr(self) -> str:
        return f'alpha={self.alpha}, gamma={self.gamma}'

    def forward(self, logits: Tensor, target_classes: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            logits (Tensor): Class logits ``(B, Q, C)``.
            target_classes (Tensor): int64 ``(B, Q)`` in ``[0, C)``.

        Returns:
            Tensor: Scalar loss.
        """
        check_shape(logits, (None, None, None), 'SigmoidFocalLabelLoss',
                    'logits')
        check_shape(target_classes, tuple(logits.shape[:2]),
                    'SigmoidFocalLabelLoss', 'target_classes')
        num_classes = logits.shape[-1]
        one_hot = F.one_hot(target_classes, num_classes=num_classes)
        one_hot = one_hot.permute(0, 2, 1).to(logits.dtype)  # (B, C, Q)
        loss = sigmoid_focal_loss(
            logits.transpose(1, 2), one_hot, alpha=self.alpha,
            gamma=self.gamma)
        return loss.mean()
