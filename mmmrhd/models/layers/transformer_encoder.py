# Copyright (c) mmmrhd contributors. All rights reserved.
"""Post-norm self-attention encoder with a PReLU FFN (DETR style)."""
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .attention import MultiheadAttention, key_padding_to_attn_mask
from .dropout import Dropout
from .ffn import PReLUFFNMixin


class PostNormEncoderLayer(PReLUFFNMixin, nn.Module):
    """``x = LN1(x + Drop(MHA(x + pos, x + pos, x)))``;
    ``x = LN2(x + Drop(FFN(x)))`` with ``FFN = Linear -> PReLU -> Drop ->
    Linear`` (official ``TransformerEncoderLayer.forward_post``,
    ``activation='prelu'``; Moment-DETR: ReLU).

    Args:
        embed_dim (int): ``d``.
        num_heads (int): Attention heads.
        ffn_dim (int): FFN hidden width.
        dropout (float): Dropout of attention weights, residuals and FFN.
        activation (str): FFN activation, ``'prelu'`` or ``'relu'``.
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int,
                 ffn_dim: int,
                 dropout: float,
                 activation: str = 'prelu') -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(embed_dim, num_heads, dropout)
        # Dropouts act in place: each input is a fresh tensor that no
        # backward reads (tests/models/layers/test_inplace_dropout.py).
        self.init_ffn(embed_dim, ffn_dim, dropout, activation)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.dropout1 = Dropout(dropout, inplace=True)
        self.dropout2 = Dropout(dropout, inplace=True)

    def forward(self, x: Tensor, pos: Tensor, attn_mask: Tensor) -> Tensor:
        """Encode.

        Args:
            x (Tensor): ``(B, L, d)``.
            pos (Tensor): ``(B, L, d)``.
            attn_mask (Tensor): Bool, broadcastable to ``(B, H, L, L)``,
                True = may attend.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        qk = x + pos
        x = self.norm1(x + self.dropout1(self.self_attn(qk, qk, x, attn_mask)))
        y = self.ffn(x)
        return self.norm2(x + self.dropout2(y))


@MODELS.register_module()
class TransformerEncoder(nn.Module):
    """A stack of :class:`PostNormEncoderLayer` over a token sequence.

    Keys are restricted to valid tokens (official ``src_key_padding_mask``).

    Args:
        num_layers (int): Number of layers.
        embed_dim (int): ``d``. Defaults to 256.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        activation (str): FFN activation: ``'prelu'`` (default; QD-DETR and
            descendants) or ``'relu'`` (Moment-DETR).
    """

    def __init__(self,
                 num_layers: int,
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 activation: str = 'prelu') -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            PostNormEncoderLayer(embed_dim, num_heads, ffn_dim, dropout,
                                 activation) for _ in range(num_layers))
        # Official Transformer._reset_parameters: xavier on every ndim > 1.
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """Encode the clips.

        Args:
            x (Tensor): ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid clip.
            pos (Tensor): ``(B, L, d)``.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        attn_mask = key_padding_to_attn_mask(mask)
        for layer in self.layers:
            x = layer(x, pos, attn_mask)
        return x
