# Copyright (c) mmmrhd contributors. All rights reserved.
"""Linear clip saliency head (Moment-DETR)."""
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class LinearSaliencyHead(nn.Module):
    """``s_t = w . m_t + b``: one linear score per encoded clip (official
    Moment-DETR ``saliency_proj = Linear(d, 1)``, ``model.py`` L124).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
    """

    def __init__(self, embed_dim: int = 256) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.proj = nn.Linear(embed_dim, 1)

    def forward(self, memory: Tensor) -> Tensor:
        """Score the clips.

        Args:
            memory (Tensor): Encoded clips ``(B, L, d)``.

        Returns:
            Tensor: ``(B, L)`` (every position, padding included).
        """
        return self.proj(memory).squeeze(-1)
