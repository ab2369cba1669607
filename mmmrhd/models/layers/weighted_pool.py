# Copyright (c) mmmrhd contributors. All rights reserved.
"""Masked pooling of a sequence with a learned scoring vector (VSLNet)."""
import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS

#: Added to the logits of masked positions (official VSLNet / TR-DETR
#: ``mask_logits``: ``inputs + (1 - mask) * -1e30``, ``test_CQA.py`` L13-15).
MASK_VALUE = -1e30


def mask_logits(logits: Tensor, mask: Tensor,
                mask_value: float = MASK_VALUE) -> Tensor:
    """``logits + (1 - mask) * mask_value`` (additive masking).

    Args:
        logits (Tensor): Any shape.
        mask (Tensor): Broadcastable to ``logits``; 1 = valid, 0 = masked.
        mask_value (float): Added at masked positions. Defaults to -1e30.

    Returns:
        Tensor: Same shape as ``logits``.
    """
    return logits + (1.0 - mask.to(logits.dtype)) * mask_value


@MODELS.register_module()
class WeightedPool(nn.Module):
    """Attention pooling over the valid positions of a sequence.

    ``alpha = softmax_t(x_t . w)`` over the valid positions (masked logits
    get -1e30 added), ``pooled = sum_t alpha_t x_t`` (VSLNet's
    ``WeightedPool``, used by TR-DETR's context-query fuser
    ``cq_concat.weighted_pool`` and VideoLights' FR sentence feature
    ``word_to_sentence_pool``). The scoring vector ``w`` ``(d, 1)`` is
    xavier-initialised (official).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
    """

    def __init__(self, embed_dim: int = 256) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.weight = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(embed_dim, 1)))

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Pool the sequence.

        Args:
            x (Tensor): ``(B, T, d)``.
            mask (Tensor): ``(B, T)``, 1 = valid; every row needs one valid
                position.

        Returns:
            Tensor: ``(B, d)``.
        """
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f'WeightedPool: x must be (B, T, '
                             f'{self.embed_dim}), got {tuple(x.shape)}')
        if mask.shape != x.shape[:2]:
            raise ValueError(f'WeightedPool: mask {tuple(mask.shape)} does '
                             f'not match x {tuple(x.shape[:2])}')
        alpha = mask_logits(x @ self.weight, mask[..., None])  # (B, T, 1)
        alpha = alpha.softmax(dim=1)
        return (x.transpose(1, 2) @ alpha).squeeze(2)
