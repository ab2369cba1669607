# Copyright (c) mmmrhd contributors. All rights reserved.
"""Classification and span-regression head of the DETR-style MR models."""
from typing import Optional, Tuple

from torch import Tensor, nn

from mmmrhd.registry import MODELS
from ..layers.mlp import MLP, inverse_sigmoid


@MODELS.register_module()
class MomentHead(nn.Module):
    """Foreground logits and refined spans for every decoder layer.

    ``class_embed`` = Linear(d, 2) with **index 0 = foreground** (official
    ``foreground_label = 0``); ``span_embed`` = MLP(d, d, 2, 3). The span of
    layer ``l`` is ``sigmoid(span_embed(hs_l) + inverse_sigmoid(ref_l))``
    where ``ref_l`` is the *input* anchor of layer ``l`` (official
    ``model.py`` L180-187; fixtures README quirk 6). Without references
    (Moment-DETR's learned queries) the span is ``sigmoid(span_embed(hs_l))``
    (official ``moment_detr/model.py`` L110-112).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        num_classes (int): Logit width. Defaults to 2.
    """

    def __init__(self, embed_dim: int = 256, num_classes: int = 2) -> None:
        super().__init__()
        self.class_embed = nn.Linear(embed_dim, num_classes)
        self.span_embed = MLP(embed_dim, embed_dim, 2, 3)

    def forward(self,
                hs: Tensor,
                references: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Predict.

        Args:
            hs (Tensor): Decoder outputs ``(n_layers, B, Q, d)``.
            references (Tensor, optional): Input anchors
                ``(n_layers, B, Q, 2)``; None = no anchors.

        Returns:
            tuple[Tensor, Tensor]: ``logits`` ``(n_layers, B, Q, 2)`` and
            normalised ``(center, width)`` spans ``(n_layers, B, Q, 2)``.
        """
        logits = self.class_embed(hs)
        spans = self.span_embed(hs)
        if references is not None:
            spans = spans + inverse_sigmoid(references)
        spans = spans.sigmoid()
        return logits, spans
