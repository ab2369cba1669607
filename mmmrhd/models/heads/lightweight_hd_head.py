# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave's lightweight highlight-detection decoder (paper eq. 2)."""
import math
from typing import Optional

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class LightweightHDHead(nn.Module):
    """Clip saliency ``Y = D_HD(J) + sum_c(J') / sqrt(d)``.

    ``D_HD`` = Linear(d, d) -> Conv1d(d, d, 1) over time -> Linear(d, 1),
    without non-linearities (official ``saliency_proj_linear``,
    ``saliency_proj_local``, ``output_saliency``; ``model.py`` L86-88,
    L201-202). ``J'`` is ``J`` unless another tensor is given (the released
    moment-guided feedback sums the *unmasked* features, fixtures README
    quirk 11). Scores are produced at every position, padding included.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
    """

    def __init__(self, embed_dim: int = 256) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.proj_linear = nn.Linear(embed_dim, embed_dim)
        self.proj_local = nn.Conv1d(embed_dim, embed_dim, 1)
        self.output = nn.Linear(embed_dim, 1)

    def forward(self, x: Tensor, sum_input: Optional[Tensor] = None) -> Tensor:
        """Score the clips.

        Args:
            x (Tensor): ``J`` ``(B, L, d)``.
            sum_input (Tensor, optional): ``J'`` ``(B, L, d)`` of the sum
                term. Defaults to ``x``.

        Returns:
            Tensor: ``(B, L)``.
        """
        if sum_input is None:
            sum_input = x
        h = self.proj_local(self.proj_linear(x).transpose(1,
                                                          2)).transpose(1, 2)
        return self.output(h).squeeze(-1) + torch.sum(
            sum_input, dim=-1) / math.sqrt(self.embed_dim)
