# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights' Bi-directional Cross-Modal Fusion (Bi-CMF) network."""
from typing import Optional, Tuple

from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .attention import MultiheadAttention, key_padding_to_attn_mask
from .dropout import Dropout
from .prelu import PReLU
from .t2v_encoder import official_t2v_attn_mask

#: (video<-text mask, text<-video mask), each broadcastable to
#: ``(B, H, Lq, Lk)``, True = may attend.
BiCMFMasks = Tuple[Tensor, Tensor]


class BiCMFLayer(nn.Module):
    """One Bi-CMF layer: text->video, video->text, then fused attention.

    Paper §III-C (Fig. 4) and the official ``BiCMFLayer.forward_post``
    (VideoLights ``transformer.py`` L413-555)::

        V' = LN1(V + linear1(Drop(MHA1(q=V+pos_v, k=T+pos_t, v=T))))
        T' = LN2(T + linear2(Drop(MHA2(q=T+pos_t, k=V+pos_v, v=V))))
        C  = LN3(V' + linear3(Drop(MHA3(q=V', k=T', v=T'))))
        f  = linear5(Drop(PReLU(linear4(C))))
        out = LN4(C + Drop(f))

    ``official_compat=True`` reproduces the release (models.md §9
    VideoLights item 3; fixtures README quirk 17): ``T'`` has no ``LN2``
    (``norm2`` exists but is unused) and the FFN has no residual,
    ``out = LN4(f + Drop(f))``. Only the video tokens are returned; the text
    passes to the next layer unchanged in both modes (official).

    Args:
        embed_dim (int): ``d``.
        num_heads (int): Attention heads.
        ffn_dim (int): FFN hidden width.
        dropout (float): Dropout of attention weights, residuals and FFN.
        official_compat (bool): See above.
    """

    def __init__(self, embed_dim: int, num_heads: int, ffn_dim: int,
                 dropout: float, official_compat: bool) -> None:
        super().__init__()
        self.official_compat = official_compat
        self.cross_attn_1 = MultiheadAttention(embed_dim, num_heads, dropout)
        self.cross_attn_2 = MultiheadAttention(embed_dim, num_heads, dropout)
        self.cross_attn_3 = MultiheadAttention(embed_dim, num_heads, dropout)
        self.linear1 = nn.Linear(embed_dim, embed_dim)
        self.linear2 = nn.Linear(embed_dim, embed_dim)
        self.linear3 = nn.Linear(embed_dim, embed_dim)
        self.linear4 = nn.Linear(embed_dim, ffn_dim)
        self.linear5 = nn.Linear(ffn_dim, embed_dim)
        self.activation = PReLU()
        # Not in place: the official layer reuses one dropout module and
        # LN4 reads ``f`` twice in compat mode.
        self.dropout = Dropout(dropout)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.norm3 = nn.LayerNorm(embed_dim)
        self.norm4 = nn.LayerNorm(embed_dim)

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def forward(self, video: Tensor, text: Tensor, video_pos: Tensor,
                text_pos: Optional[Tensor], masks: BiCMFMasks) -> Tensor:
        """Fuse.

        Args:
            video (Tensor): ``(B, Lv, d)``.
            text (Tensor): ``(B, Lt, d)``.
            video_pos (Tensor): ``(B, Lv, d)``.
            text_pos (Tensor, optional): ``(B, Lt, d)``; None = zeros.
            masks (tuple[Tensor, Tensor]): Video->text and text->video
                attention masks (see :meth:`BiCMFEncoder.build_attn_masks`).

        Returns:
            Tensor: Updated video tokens ``(B, Lv, d)``.
        """
        v2t_mask, t2v_mask = masks
        video_q = video + video_pos
        text_q = text if text_pos is None else text + text_pos
        drop = self.dropout
        attn = self.cross_attn_1(video_q, text_q, text, v2t_mask)
        video1 = self.norm1(video + self.linear1(drop(attn)))
        attn = self.cross_attn_2(text_q, video_q, video, t2v_mask)
        text1 = text + self.linear2(drop(attn))
        if not self.official_compat:
            text1 = self.norm2(text1)
        attn = self.cross_attn_3(video1, text1, text1, v2t_mask)
        fused = self.norm3(video1 + self.linear3(drop(attn)))
        f = self.linear5(drop(self.activation(self.linear4(fused))))
        if self.official_compat:
            return self.norm4(f + drop(f))
        return self.norm4(fused + drop(f))


@MODELS.register_module()
class BiCMFEncoder(nn.Module):
    """A stack of :class:`BiCMFLayer` (VideoLights ``t2v_encoder``).

    Every layer reads the *original* text tokens (the official layer
    returns the input text unchanged); the video tokens are chained.

    Args:
        num_layers (int): Official ``bicmf_layers`` (1 in every released
            script; config default 2). Defaults to 1.
        embed_dim (int): ``d``. Defaults to 256.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        official_compat (bool): Released behaviour: attention masks with the
            batch/head mis-ordering of :func:`official_t2v_attn_mask` (for
            all three attentions), no ``LN2`` and no FFN residual (see
            :class:`BiCMFLayer`). False (default) masks padded keys only.
    """

    def __init__(self,
                 num_layers: int = 1,
                 embed_dim: int = 256,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 official_compat: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(
                f'BiCMFEncoder: num_layers must be >= 1, got {num_layers}')
        self.num_heads = num_heads
        self.official_compat = official_compat
        self.layers = nn.ModuleList(
            BiCMFLayer(embed_dim, num_heads, ffn_dim, dropout,
                       official_compat) for _ in range(num_layers))
        # Official VLTransformer._reset_parameters: xavier on ndim > 1.
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def build_attn_masks(self, video_mask: Tensor,
                         text_mask: Tensor) -> BiCMFMasks:
        """The masks of the video->text and text->video attentions.

        Args:
            video_mask (Tensor): ``(B, Lv)``, 1 = valid clip.
            text_mask (Tensor): ``(B, Lt)``, 1 = valid token.

        Returns:
            tuple[Tensor, Tensor]: Bool masks, True = may attend:
            ``(B, H, Lv, Lt)`` and ``(B, H, Lt, Lv)`` in official-compat
            mode (official ``transformer.py`` L454-458), else key padding
            ``(B, 1, 1, Lt)`` and ``(B, 1, 1, Lv)``.
        """
        if self.official_compat:
            h = self.num_heads
            return (official_t2v_attn_mask(video_mask, text_mask, h),
                    official_t2v_attn_mask(text_mask, video_mask, h))
        return (key_padding_to_attn_mask(text_mask),
                key_padding_to_attn_mask(video_mask))

    def forward(self,
                video: Tensor,
                text: Tensor,
                video_mask: Tensor,
                text_mask: Tensor,
                video_pos: Tensor,
                text_pos: Optional[Tensor] = None,
                attn_masks: Optional[BiCMFMasks] = None) -> Tensor:
        """Fuse the text into the video tokens.

        Args:
            video (Tensor): ``(B, Lv, d)``.
            text (Tensor): ``(B, Lt, d)``.
            video_mask (Tensor): ``(B, Lv)``, 1 = valid; each sample needs a
                valid first clip.
            text_mask (Tensor): ``(B, Lt)``, 1 = valid; each sample needs a
                valid first token.
            video_pos (Tensor): ``(B, Lv, d)``.
            text_pos (Tensor, optional): ``(B, Lt, d)``; None = zeros
                (official ``use_txt_pos=False``).
            attn_masks (tuple, optional): Precomputed
                :meth:`build_attn_masks` (e.g. of two batches stacked along
                the batch, each with its own official layout).

        Returns:
            Tensor: ``(B, Lv, d)`` query-aware video tokens.
        """
        if attn_masks is None:
            attn_masks = self.build_attn_masks(video_mask, text_mask)
        for layer in self.layers:
            video = layer(video, text, video_pos, text_pos, attn_masks)
        return video
