# Copyright (c) mmmrhd contributors. All rights reserved.
"""Standard post-norm DETR decoder layer (Moment-DETR)."""
from torch import Tensor, nn

from ..layers.attention import MultiheadAttention
from ..layers.dropout import Dropout
from ..layers.ffn import PReLUFFNMixin


class DETRDecoderLayer(PReLUFFNMixin, nn.Module):
    """DETR decoder layer with positional queries and keys (post-norm).

    Official ``TransformerDecoderLayer.forward_post`` (Moment-DETR
    ``moment_detr/transformer.py``, from facebookresearch/detr)::

        t = LN1(t + Drop(SelfAttn(q=k=t + p_q, v=t)))
        t = LN2(t + Drop(CrossAttn(q=t + p_q, k=m + p_m, v=m)))
        t = LN3(t + Drop(FFN(t)))

    Parameter names are the official ones (``self_attn``,
    ``multihead_attn``, ``linear1/2``, ``norm1/2/3``).

    Args:
        embed_dim (int): ``d``.
        num_heads (int): Attention heads.
        ffn_dim (int): FFN hidden width.
        dropout (float): Dropout of attention weights, residuals and FFN.
        activation (str): FFN activation, ``'relu'`` (official) or
            ``'prelu'``.
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int,
                 ffn_dim: int,
                 dropout: float,
                 activation: str = 'relu') -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(embed_dim, num_heads, dropout)
        self.multihead_attn = MultiheadAttention(embed_dim, num_heads,
                                                 dropout)
        self.init_ffn(embed_dim, ffn_dim, dropout, activation)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.norm3 = nn.LayerNorm(embed_dim)
        # Residual dropouts in place: each input is a fresh tensor that no
        # backward reads.
        self.dropout1 = Dropout(dropout, inplace=True)
        self.dropout2 = Dropout(dropout, inplace=True)
        self.dropout3 = Dropout(dropout, inplace=True)

    def forward(self, tgt: Tensor, query_pos: Tensor, memory: Tensor,
                memory_pos: Tensor, memory_attn_mask: Tensor) -> Tensor:
        """Decode one layer.

        Args:
            tgt (Tensor): Query content ``(B, Q, d)``.
            query_pos (Tensor): Query positions ``(B, Q, d)`` (learned).
            memory (Tensor): Encoder output ``(B, L, d)``.
            memory_pos (Tensor): Its positional encoding ``(B, L, d)``.
            memory_attn_mask (Tensor): Bool, broadcastable to
                ``(B, H, Q, L)``, True = may attend.

        Returns:
            Tensor: ``(B, Q, d)``.
        """
        qk = tgt + query_pos
        tgt = self.norm1(tgt +
                         self.dropout1(self.self_attn(qk, qk, tgt)))
        attn = self.multihead_attn(tgt + query_pos, memory + memory_pos,
                                   memory, memory_attn_mask)
        tgt = self.norm2(tgt + self.dropout2(attn))
        return self.norm3(tgt + self.dropout3(self.ffn(tgt)))
