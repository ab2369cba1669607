# Copyright (c) mmmrhd contributors. All rights reserved.
"""DETR decoder with learned moment queries (Moment-DETR)."""
from typing import Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from ..layers.attention import key_padding_to_attn_mask
from .detr_decoder_layer import DETRDecoderLayer


@MODELS.register_module()
class DETRMomentDecoder(nn.Module):
    """Vanilla DETR decoder over an encoded sequence.

    ``Q`` learned query embeddings (official model-level ``query_embed``,
    Embedding(Q, d)) are the positional queries of every layer; the query
    content starts at zero (official ``tgt = zeros_like(query_embed)``).
    Every layer output goes through the shared final LayerNorm ``norm``
    (``return_intermediate_dec=True``). There are no anchors: the moment
    head predicts spans from ``hs`` alone, so :meth:`forward` returns
    ``None`` references.

    Args:
        num_layers (int): Official ``dec_layers`` (2).
        num_queries (int): ``Q`` (10).
        embed_dim (int): ``d``. Defaults to 256.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        activation (str): FFN activation, ``'relu'`` (official) or
            ``'prelu'``.
    """

    def __init__(self,
                 num_layers: int = 2,
                 num_queries: int = 10,
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 activation: str = 'relu') -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.num_queries = num_queries
        self.layers = nn.ModuleList(
            DETRDecoderLayer(embed_dim, num_heads, ffn_dim, dropout,
                             activation) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dim)
        # Official Transformer._reset_parameters: xavier on every ndim > 1
        # of the transformer; query_embed is model-level: N(0, 1).
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.query_embed = nn.Embedding(num_queries, embed_dim)

    def forward(self, memory: Tensor, memory_mask: Tensor,
                memory_pos: Tensor) -> Tuple[Tensor, None]:
        """Decode moments.

        Args:
            memory (Tensor): Encoded tokens ``(B, L, d)``.
            memory_mask (Tensor): ``(B, L)``, 1 = valid token.
            memory_pos (Tensor): Their positional encoding ``(B, L, d)``.

        Returns:
            tuple[Tensor, None]: ``hs`` ``(num_layers, B, Q, d)`` (normed
            layer outputs) and no references.
        """
        b = memory.shape[0]
        attn_mask = key_padding_to_attn_mask(memory_mask)
        query_pos = self.query_embed.weight[None].expand(b, -1, -1)
        tgt = torch.zeros_like(query_pos)
        hs = []
        for layer in self.layers:
            tgt = layer(tgt, query_pos, memory, memory_pos, attn_mask)
            hs.append(self.norm(tgt))
        return torch.stack(hs), None
