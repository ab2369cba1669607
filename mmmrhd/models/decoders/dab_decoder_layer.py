# Copyright (c) mmmrhd contributors. All rights reserved.
"""One layer of the DAB/Conditional-DETR 1-D moment decoder."""
from typing import Optional

import torch
from torch import Tensor, nn

from ..layers.attention import ProjectionFreeAttention
from ..layers.dropout import Dropout
from ..layers.ffn import PReLUFFNMixin


class DABDecoderLayer(PReLUFFNMixin, nn.Module):
    """Self-attention, conditional cross-attention and a PReLU FFN.

    Official ``TransformerDecoderLayer`` (TaskWeave ``transformer.py``
    L661-782, identical in QD-DETR/TR-DETR/VideoLights), post-norm:

    * self-attention: ``q = W_qc t + W_qp p``, ``k = W_kc t + W_kp p``,
      ``v = W_v t`` (``p`` = query position), projection-free MHA,
      ``t = LN1(t + Drop(.))``;
    * cross-attention: ``q_c = W t``, ``k_c = W m``, ``v = W m``,
      ``k_p = W pos``; in the first layer (or with ``keep_query_pos``)
      ``q_c += W_qpos p`` and ``k_c += k_p``; per head the query is
      ``[q_c,h ; W_sine s_h]`` and the key ``[k_c,h ; k_p,h]`` (``2 * d / H``
      channels), the value ``d / H``; ``t = LN2(t + Drop(.))``;
    * ``t = LN3(t + Drop(Linear(Drop(PReLU(Linear(t))))))``.

    ``ca_qpos_proj`` only exists where it is used (first layer unless
    ``keep_query_pos``), as in the official state_dict.

    Args:
        embed_dim (int): ``d``.
        num_heads (int): ``H``.
        ffn_dim (int): FFN hidden width.
        dropout (float): Dropout of attention weights, residuals and FFN.
        with_query_pos (bool): Whether this layer adds the query position to
            the cross-attention content query/key.
    """

    def __init__(self, embed_dim: int, num_heads: int, ffn_dim: int,
                 dropout: float, with_query_pos: bool) -> None:
        super().__init__()
        d = embed_dim
        self.num_heads = num_heads
        # Dropouts act in place: each input is a fresh tensor that no
        # backward reads (tests/models/layers/test_inplace_dropout.py).
        self.with_query_pos = with_query_pos
        self.sa_qcontent_proj = nn.Linear(d, d)
        self.sa_qpos_proj = nn.Linear(d, d)
        self.sa_kcontent_proj = nn.Linear(d, d)
        self.sa_kpos_proj = nn.Linear(d, d)
        self.sa_v_proj = nn.Linear(d, d)
        self.self_attn = ProjectionFreeAttention(d, num_heads, d, dropout)
        self.norm1 = nn.LayerNorm(d)
        self.dropout1 = Dropout(dropout, inplace=True)

        self.ca_qcontent_proj = nn.Linear(d, d)
        self.ca_qpos_proj = nn.Linear(d, d) if with_query_pos else None
        self.ca_kcontent_proj = nn.Linear(d, d)
        self.ca_kpos_proj = nn.Linear(d, d)
        self.ca_v_proj = nn.Linear(d, d)
        self.ca_qpos_sine_proj = nn.Linear(d, d)
        self.cross_attn = ProjectionFreeAttention(2 * d, num_heads, d, dropout)

        self.init_ffn(d, ffn_dim, dropout)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)
        self.dropout2 = Dropout(dropout, inplace=True)
        self.dropout3 = Dropout(dropout, inplace=True)

    def forward(self, tgt: Tensor, memory: Tensor, memory_pos: Tensor,
                memory_attn_mask: Optional[Tensor], query_pos: Tensor,
                query_sine_embed: Tensor) -> Tensor:
        """Update the query content.

        Args:
            tgt (Tensor): Query content ``(B, Q, d)``.
            memory (Tensor): Clip features ``(B, L, d)``.
            memory_pos (Tensor): Clip positional encoding ``(B, L, d)``.
            memory_attn_mask (Tensor, optional): Bool, broadcastable to
                ``(B, H, Q, L)``, True = may attend.
            query_pos (Tensor): ``(B, Q, d)``.
            query_sine_embed (Tensor): Scaled sine anchor embedding
                ``(B, Q, d)``.

        Returns:
            Tensor: ``(B, Q, d)``.
        """
        b, nq, d = tgt.shape
        h = self.num_heads
        # Self-attention.
        q = self.sa_qcontent_proj(tgt) + self.sa_qpos_proj(query_pos)
        k = self.sa_kcontent_proj(tgt) + self.sa_kpos_proj(query_pos)
        tgt2 = self.self_attn(q, k, self.sa_v_proj(tgt))
        tgt = self.norm1(tgt + self.dropout1(tgt2))

        # Conditional cross-attention.
        q = self.ca_qcontent_proj(tgt)
        k = self.ca_kcontent_proj(memory)
        v = self.ca_v_proj(memory)
        k_pos = self.ca_kpos_proj(memory_pos)
        if self.with_query_pos:
            q = q + self.ca_qpos_proj(query_pos)
            k = k + k_pos
        sine = self.ca_qpos_sine_proj(query_sine_embed)
        q = torch.cat([q.view(b, nq, h, d // h),
                       sine.view(b, nq, h, d // h)],
                      dim=3).view(b, nq, 2 * d)
        num_keys = memory.shape[1]
        k = torch.cat([
            k.view(b, num_keys, h, d // h),
            k_pos.view(b, num_keys, h, d // h)
        ],
                      dim=3).view(b, num_keys, 2 * d)
        tgt2 = self.cross_attn(q, k, v, memory_attn_mask)
        tgt = self.norm2(tgt + self.dropout2(tgt2))

        # FFN.
        tgt2 = self.ffn(tgt)
        return self.norm3(tgt + self.dropout3(tgt2))
