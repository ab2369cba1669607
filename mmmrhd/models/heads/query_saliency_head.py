# Copyright (c) mmmrhd contributors. All rights reserved.
"""Query-dependent saliency head of QD-DETR (and its TR-DETR variant)."""
import math
from typing import Optional

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class QuerySaliencyHead(nn.Module):
    """Clip saliency from projected clip memory, optionally against a global
    token.

    With ``with_global=True`` (QD-DETR, VideoLights)::

        s_t = <W1 m_t + b1, W2 g + b2> / sqrt(d)

    where ``m_t`` is the encoded clip and ``g`` the encoded global token
    (official ``qd_detr/model.py`` L173: ``sum(saliency_proj1(vid_mem) *
    saliency_proj2(memory_global).unsqueeze(1), -1) / sqrt(hidden_dim)``).
    With ``with_global=False`` (TR-DETR's ``saliency_proj1`` head,
    VideoLights' ``saliency_proj_mr``)::

        s_t = sum_c (W1 m_t + b1)_c / sqrt(d)

    Scores are produced at every position, padding included.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        with_global (bool): Use the global token (second projection
            ``proj2``). Defaults to True.
    """

    def __init__(self, embed_dim: int = 256, with_global: bool = True) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.with_global = with_global
        self.proj1 = nn.Linear(embed_dim, embed_dim)
        self.proj2 = nn.Linear(embed_dim, embed_dim) if with_global else None
        # Official: np.sqrt(hidden_dim) (a Python/NumPy double).
        self.scale = math.sqrt(embed_dim)

    def extra_repr(self) -> str:
        return f'embed_dim={self.embed_dim}, with_global={self.with_global}'

    def forward(self, memory: Tensor,
                global_token: Optional[Tensor] = None) -> Tensor:
        """Score the clips.

        Args:
            memory (Tensor): Encoded clips ``(B, L, d)``.
            global_token (Tensor, optional): Encoded global token ``(B, d)``;
                required iff ``with_global``.

        Returns:
            Tensor: ``(B, L)``.
        """
        if self.with_global:
            if global_token is None:
                raise ValueError('QuerySaliencyHead: with_global=True needs '
                                 'the encoded global token (B, d)')
            if global_token.shape != (memory.shape[0], memory.shape[-1]):
                raise ValueError(
                    f'QuerySaliencyHead: global_token '
                    f'{tuple(global_token.shape)} must be (B, d) = '
                    f'({memory.shape[0]}, {memory.shape[-1]})')
            prod = self.proj1(memory) * self.proj2(global_token).unsqueeze(1)
            return torch.sum(prod, dim=-1) / self.scale
        if global_token is not None:
            raise ValueError('QuerySaliencyHead: with_global=False takes no '
                             'global token')
        return torch.sum(self.proj1(memory), dim=-1) / self.scale
