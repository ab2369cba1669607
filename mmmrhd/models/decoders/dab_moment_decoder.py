# Copyright (c) mmmrhd contributors. All rights reserved.
"""DAB-DETR style 1-D moment decoder with anchor queries."""
from typing import Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from ..layers.attention import key_padding_to_attn_mask
from ..layers.mlp import MLP, inverse_sigmoid
from ..layers.positional_encoding import span_sine_embedding
from .dab_decoder_layer import DABDecoderLayer


@MODELS.register_module()
class DABMomentDecoder(nn.Module):
    """Moment decoder with dynamic ``(center, width)`` anchors.

    Official ``TransformerDecoder`` (TaskWeave ``transformer.py`` L380-518,
    ``query_scale_type='cond_elewise'``, ``modulate_t_attn=True``,
    ``bbox_embed_diff_each_layer=False``, ``keep_query_pos=False``) with the
    anchor embedding ``query_embed`` (official model-level ``query_embed``,
    Embedding(Q, 2), unsigmoided). Per layer ``l`` with reference
    ``r`` (``sigmoid(query_embed)`` at layer 0):

    1. ``s = [PE(r_c), PE(r_w)]`` (:func:`span_sine_embedding`),
       ``query_pos = ref_point_head(s)``;
    2. ``s *= query_scale(t)`` for ``l > 0``;
    3. ``s *= sigmoid(ref_anchor_head(t)) / r_w`` (one scalar per query);
    4. ``t = layer(t, memory, ...)``;
    5. except after the last layer: ``r' = sigmoid(bbox_embed(t) +
       inverse_sigmoid(r))``, appended to the returned references *with*
       gradient, and fed to the next layer *detached* (fixtures README
       quirk 6). ``bbox_embed`` is this decoder's own MLP(d, d, 2, 3), not
       the model's span head. (The release also evaluates it after the
       last layer and discards the result; that is skipped here.)

    Every layer output goes through the shared final LayerNorm ``norm``.
    The initial query content is zero.

    Args:
        num_layers (int): Official ``dec_layers`` (2).
        num_queries (int): ``Q`` (10).
        embed_dim (int): ``d``; must be even. Defaults to 256.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        keep_query_pos (bool): Add the query position to the cross-attention
            content in every layer, not only the first. Defaults to False.
    """

    def __init__(self,
                 num_layers: int = 2,
                 num_queries: int = 10,
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 keep_query_pos: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'DABMomentDecoder: num_layers must be >= 1, '
                             f'got {num_layers}')
        if embed_dim % 2:
            raise ValueError(f'DABMomentDecoder: embed_dim must be even, got '
                             f'{embed_dim}')
        self.num_layers = num_layers
        self.num_queries = num_queries
        self.embed_dim = embed_dim
        self.query_embed = nn.Embedding(num_queries, 2)
        self.layers = nn.ModuleList(
            DABDecoderLayer(embed_dim, num_heads, ffn_dim, dropout,
                            keep_query_pos or i == 0)
            for i in range(num_layers))
        self.norm = nn.LayerNorm(embed_dim)
        self.query_scale = MLP(embed_dim, embed_dim, embed_dim, 2)
        self.ref_point_head = MLP(embed_dim, embed_dim, embed_dim, 2)
        self.bbox_embed = MLP(embed_dim, embed_dim, 2, 3)
        self.ref_anchor_head = MLP(embed_dim, embed_dim, 1, 2)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # Official: bbox_embed's last layer is zeroed, then
        # Transformer._reset_parameters xavier-initialises every parameter
        # with ndim > 1 (so only the last bias stays 0). The model-level
        # query_embed keeps nn.Embedding's N(0, 1).
        for name, p in self.named_parameters():
            if p.dim() > 1 and not name.startswith('query_embed'):
                nn.init.xavier_uniform_(p)
        nn.init.zeros_(self.bbox_embed.layers[-1].bias)

    def forward(self, memory: Tensor, memory_mask: Tensor,
                memory_pos: Tensor) -> Tuple[Tensor, Tensor]:
        """Decode moments.

        Args:
            memory (Tensor): Clip features ``(B, L, d)``.
            memory_mask (Tensor): ``(B, L)``, 1 = valid clip.
            memory_pos (Tensor): Clip positional encoding ``(B, L, d)``.

        Returns:
            tuple[Tensor, Tensor]: ``hs`` ``(num_layers, B, Q, d)`` (normed
            layer outputs) and ``references`` ``(num_layers, B, Q, 2)`` (the
            input anchor of each layer, normalised ``(center, width)``).
        """
        b = memory.shape[0]
        attn_mask = key_padding_to_attn_mask(memory_mask)
        ref = self.query_embed.weight.sigmoid()[None].expand(b, -1,
                                                             -1)  # (B, Q, 2)
        tgt = memory.new_zeros(b, self.num_queries, self.embed_dim)
        hs, refs = [], [ref]
        for i, layer in enumerate(self.layers):
            sine = span_sine_embedding(ref, self.embed_dim)  # (B, Q, d)
            query_pos = self.ref_point_head(sine)
            if i > 0:
                sine = sine * self.query_scale(tgt)
            sine = sine * (self.ref_anchor_head(tgt).sigmoid()[..., 0] /
                           ref[..., 1]).unsqueeze(-1)
            tgt = layer(tgt, memory, memory_pos, attn_mask, query_pos, sine)
            hs.append(self.norm(tgt))
            if i < self.num_layers - 1:
                new_ref = (self.bbox_embed(tgt) +
                           inverse_sigmoid(ref)).sigmoid()
                refs.append(new_ref)
                ref = new_ref.detach()
        return torch.stack(hs), torch.stack(refs)
