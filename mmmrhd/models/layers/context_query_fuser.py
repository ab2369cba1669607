# Copyright (c) mmmrhd contributors. All rights reserved.
"""VSLNet's context-query attention fuser (TR-DETR's visual refinement)."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part
from .dropout import Dropout
from .weighted_pool import mask_logits


@MODELS.register_module()
class CQAttention(nn.Module):
    """Context-query attention (Zhang et al., VSLNet, ACL 2020, §3.2).

    With context ``C`` (clips, ``(B, L, d)``) and query ``Q`` (tokens,
    ``(B, T, d)``), the trilinear score is ``S_ij = w_C . c_i + w_Q . q_j +
    (c_i * w_m) . q_j``, computed on ``Drop(C)`` and ``Drop(Q)``; ``S_r`` =
    softmax over the valid tokens, ``S_c`` = softmax over the valid clips
    (masked logits get -1e30 added). Then ``A = S_r Q``, ``B = S_r S_c^T C``
    and the output is ``Linear(4d, d)([C; A; C * A; C * B])`` (official
    TR-DETR ``interaction/test_CQA.py`` L29-75: a kernel-1 Conv1d, the same
    map as a Linear; the converter reshapes its weight). ``B`` is computed
    as ``S_r (S_c^T C)``, the cheaper association of the same product.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        dropout (float): Dropout on ``C`` and ``Q`` inside the score.
            Defaults to 0.1.
    """

    def __init__(self, embed_dim: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        # Official names and shapes (xavier-initialised, official).
        self.w4C = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(embed_dim, 1)))
        self.w4Q = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(embed_dim, 1)))
        self.w4mlu = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(1, 1, embed_dim)))
        self.dropout = Dropout(dropout)
        self.fc = nn.Linear(4 * embed_dim, embed_dim)

    def scores(self, context: Tensor, query: Tensor) -> Tensor:
        """Trilinear scores ``S`` ``(B, L, T)`` (before masking)."""
        context = self.dropout(context)
        query = self.dropout(query)
        s0 = context @ self.w4C  # (B, L, 1)
        s1 = (query @ self.w4Q).transpose(1, 2)  # (B, 1, T)
        s2 = (context * self.w4mlu) @ query.transpose(1, 2)  # (B, L, T)
        return s0 + s1 + s2

    def forward(self, context: Tensor, query: Tensor, context_mask: Tensor,
                query_mask: Tensor) -> Tensor:
        """Attend.

        Args:
            context (Tensor): ``(B, L, d)``.
            query (Tensor): ``(B, T, d)``.
            context_mask (Tensor): ``(B, L)``, 1 = valid.
            query_mask (Tensor): ``(B, T)``, 1 = valid.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        score = self.scores(context, query)
        s_r = mask_logits(score, query_mask[:, None, :]).softmax(dim=2)
        s_c = mask_logits(score, context_mask[:, :, None]).softmax(dim=1)
        c2q = s_r @ query  # (B, L, d)
        q2c = s_r @ (s_c.transpose(1, 2) @ context)  # (B, L, d)
        out = torch.cat([context, c2q, context * c2q, context * q2c], dim=2)
        return self.fc(out)


@MODELS.register_module()
class CQConcatenate(nn.Module):
    """``Linear(2d, d)([x; broadcast WeightedPool(Q)])`` (VSLNet; official
    ``test_CQA.py`` L95-107, kernel-1 Conv1d).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
    """

    def __init__(self, embed_dim: int = 256) -> None:
        super().__init__()
        self.weighted_pool = build_part(
            MODELS, dict(type='WeightedPool', embed_dim=embed_dim))
        self.fc = nn.Linear(2 * embed_dim, embed_dim)

    def forward(self, context: Tensor, query: Tensor,
                query_mask: Tensor) -> Tensor:
        """``(B, L, d)``, ``(B, T, d)``, ``(B, T)`` -> ``(B, L, d)``."""
        pooled = self.weighted_pool(query, query_mask)  # (B, d)
        pooled = pooled[:, None].expand(-1, context.shape[1], -1)
        return self.fc(torch.cat([context, pooled], dim=2))


@MODELS.register_module()
class ContextQueryFuser(nn.Module):
    """``ReLU(CQConcatenate(CQAttention(V, Q), Q))``: query-aware clips.

    TR-DETR's visual feature refinement (``VSLFuser``, official
    ``test_CQA.py`` L110-119; models.md §4.2 item 2). It fuses before the
    transformer, so any detector can put it in front of its fusion layers.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        dropout (float): :class:`CQAttention` dropout. Defaults to 0.1.
    """

    def __init__(self, embed_dim: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.cq_attention = CQAttention(embed_dim, dropout)
        self.cq_concat = CQConcatenate(embed_dim)

    def forward(self, video: Tensor, text: Tensor, video_mask: Tensor,
                text_mask: Tensor) -> Tensor:
        """Refine the clips.

        Args:
            video (Tensor): ``(B, L, d)``.
            text (Tensor): ``(B, T, d)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid.
            text_mask (Tensor): ``(B, T)``, 1 = valid; every sample needs a
                valid token.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        if video.shape[-1] != self.embed_dim or text.shape[-1] != \
                self.embed_dim:
            raise ValueError(f'ContextQueryFuser: video {tuple(video.shape)} '
                             f'and text {tuple(text.shape)} must have width '
                             f'{self.embed_dim}')
        x = self.cq_attention(video, text, video_mask, text_mask)
        return F.relu(self.cq_concat(x, text, text_mask))
