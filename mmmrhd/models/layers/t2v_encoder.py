# Copyright (c) mmmrhd contributors. All rights reserved.
"""Text-to-video cross-attention fusion (QD-DETR / TaskWeave / TR-DETR)."""
from typing import Optional

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .attention import MultiheadAttention, key_padding_to_attn_mask
from .dropout import Dropout
from .ffn import PReLUFFNMixin


def official_t2v_attn_mask(video_mask: Tensor, text_mask: Tensor,
                           num_heads: int) -> Tensor:
    """The released T2V attention mask, batch/head mis-ordering included.

    The official layer builds ``block = pad_v[:, :, None] @ pad_t[:, None,
    :]`` (B, Lv, Lt) and passes ``block.repeat(H, 1, 1)`` (H*B, Lv, Lt) as
    ``attn_mask`` together with ``key_padding_mask = pad_t``.
    ``nn.MultiheadAttention`` reads row ``b*H + h`` as (sample b, head h),
    but row ``r`` of the repeated tensor belongs to sample ``r % B``; so
    sample ``b``, head ``h`` is masked with the block of sample
    ``(b*H + h) % B`` (official TaskWeave ``transformer.py`` L556-562;
    fixtures README quirk 1). It is not redundant with the key padding mask.

    Args:
        video_mask (Tensor): ``(B, Lv)``, 1 = valid clip.
        text_mask (Tensor): ``(B, Lt)``, 1 = valid token.
        num_heads (int): ``H``.

    Returns:
        Tensor: Bool ``(B, H, Lv, Lt)``, True = may attend (key padding
        included).
    """
    pad_v, pad_t = ~video_mask.bool(), ~text_mask.bool()
    b = video_mask.shape[0]
    block = pad_v[:, :, None] & pad_t[:, None, :]  # (B, Lv, Lt)
    rows = torch.arange(b * num_heads, device=video_mask.device) % b
    blocked = block[rows].view(b, num_heads, *block.shape[1:])
    return ~(blocked | pad_t[:, None, None, :])


class T2VCrossAttentionLayer(PReLUFFNMixin, nn.Module):
    """Video queries attend to text; post-norm with the official residuals.

    ``y = v + Drop(MHA(q=v + pos_v, k=t + pos_t, v=t))``;
    ``out = LN2(y + Drop(FFN(LN1(y))))``: the FFN residual adds back the
    *pre-LN1* sum ``y`` (official ``T2V_TransformerEncoderLayer.forward_post``
    L549-569; fixtures README quirk 9). ``FFN = Linear(d, d_ff) -> PReLU ->
    Drop -> Linear(d_ff, d)``. The text is not updated.

    Args:
        embed_dim (int): ``d``.
        num_heads (int): Attention heads.
        ffn_dim (int): FFN hidden width.
        dropout (float): Dropout of attention weights, residuals and FFN.
    """

    def __init__(self, embed_dim: int, num_heads: int, ffn_dim: int,
                 dropout: float) -> None:
        super().__init__()
        self.cross_attn = MultiheadAttention(embed_dim, num_heads, dropout)
        # Dropouts act in place: each input is a fresh tensor that no
        # backward reads (tests/models/layers/test_inplace_dropout.py).
        self.init_ffn(embed_dim, ffn_dim, dropout)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.dropout1 = Dropout(dropout, inplace=True)
        self.dropout2 = Dropout(dropout, inplace=True)

    def forward(self, video: Tensor, text: Tensor, video_pos: Tensor,
                text_pos: Optional[Tensor], attn_mask: Tensor) -> Tensor:
        """Update the video tokens.

        Args:
            video (Tensor): ``(B, Lv, d)``.
            text (Tensor): ``(B, Lt, d)``.
            video_pos (Tensor): ``(B, Lv, d)``.
            text_pos (Tensor, optional): ``(B, Lt, d)``; None = no encoding.
            attn_mask (Tensor): Bool, broadcastable to ``(B, H, Lv, Lt)``,
                True = may attend.

        Returns:
            Tensor: ``(B, Lv, d)``.
        """
        key = text if text_pos is None else text + text_pos
        attn = self.cross_attn(video + video_pos, key, text, attn_mask)
        y = video + self.dropout1(attn)
        z = self.ffn(self.norm1(y))
        return self.norm2(y + self.dropout2(z))


@MODELS.register_module()
class T2VEncoder(nn.Module):
    """A stack of :class:`T2VCrossAttentionLayer` (multi-modal fusion).

    Args:
        num_layers (int): Official ``enc_layers`` (2).
        embed_dim (int): ``d``. Defaults to 256.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        official_compat (bool): Use the released attention mask with its
            batch/head mis-ordering (:func:`official_t2v_attn_mask`). False
            (default) masks padded text tokens only.
    """

    def __init__(self,
                 num_layers: int = 2,
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 official_compat: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.official_compat = official_compat
        self.layers = nn.ModuleList(
            T2VCrossAttentionLayer(embed_dim, num_heads, ffn_dim, dropout)
            for _ in range(num_layers))
        # Official Transformer._reset_parameters: xavier on every ndim > 1.
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def build_attn_mask(self, video_mask: Tensor, text_mask: Tensor) -> Tensor:
        """The attention mask of :meth:`forward`.

        Args:
            video_mask (Tensor): ``(B, Lv)``, 1 = valid clip.
            text_mask (Tensor): ``(B, Lt)``, 1 = valid token.

        Returns:
            Tensor: Bool, True = may attend: ``(B, H, Lv, Lt)`` in
            official-compat mode, else ``(B, 1, 1, Lt)``.
        """
        if self.official_compat:
            return official_t2v_attn_mask(video_mask, text_mask,
                                          self.num_heads)
        return key_padding_to_attn_mask(text_mask)

    def forward(self,
                video: Tensor,
                text: Tensor,
                video_mask: Tensor,
                text_mask: Tensor,
                video_pos: Tensor,
                text_pos: Optional[Tensor] = None,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Fuse the text into the video tokens.

        Args:
            video (Tensor): ``(B, Lv, d)``.
            text (Tensor): ``(B, Lt, d)``.
            video_mask (Tensor): ``(B, Lv)``, 1 = valid clip.
            text_mask (Tensor): ``(B, Lt)``, 1 = valid token; every sample
                needs at least one valid token.
            video_pos (Tensor): ``(B, Lv, d)``.
            text_pos (Tensor, optional): ``(B, Lt, d)``.
            attn_mask (Tensor, optional): Precomputed
                :meth:`build_attn_mask` (e.g. of two batches concatenated
                along the batch, each with its own official layout). None =
                built from the masks.

        Returns:
            Tensor: ``(B, Lv, d)`` query-aware video tokens.
        """
        if attn_mask is None:
            attn_mask = self.build_attn_mask(video_mask, text_mask)
        for layer in self.layers:
            video = layer(video, text, video_pos, text_pos, attn_mask)
        return video
