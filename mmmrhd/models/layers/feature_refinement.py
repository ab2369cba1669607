# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights' feature refinement (the FR half of FRA, paper §III-B)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part
from .dropout import Dropout

#: Official ``(video_mask + 1e-45).log()``: in float32 1e-45 rounds to the
#: smallest subnormal, so padded clips get about -103.28 (fixtures README
#: quirk 17). Written as the float32 constant so that flush-to-zero builds
#: give the same value.
PAD_LOG = float(torch.tensor(1e-45, dtype=torch.float32).log())


@MODELS.register_module()
class FeatureRefinement(nn.Module):
    """Refine the clips with word- and sentence-level query information.

    Paper eq. (V_Q, S, V_S, S_v) and official ``feature_refinement.py``
    L9-69; ``V`` (B, L, d) projected clips, ``Q`` (B, T, d) projected
    tokens::

        s     = WeightedPool(Q)                      # sentence (B, d)
        V_Q   = correlation branch (below)           # (B, L, d)
        V_S   = (cos(v_i, s) + log(mask_i)) * sim_w  # similarity (B, L, d)
        S_v   = s broadcast over the clips           # (B, L, d)
        out   = Drop(ReLU(mixer([Drop(V); V_S; S_v; V_Q])))

    ``mixer`` is a kernel-1 Conv1d (4d -> d) stored as a Linear (the same
    maths; the converter squeezes the kernel axis). Every branch gets
    dropout as in the release.

    **Correlation branch.** With ``a_ij = softmax_j <q_j, v_i>`` (over the
    words) and the learned ``u = cor_v_w`` (1, d), ``c = cor_q_w`` (1, 1):

    * default (paper ``V_Q = V T^T``, word-level alignment): padded words
      are masked out of the softmax and the attended text is
      ``V_Q_i = sum_j a_ij (c u) * q_j`` (element-wise with the learned
      vector), so the branch depends on the input;
    * ``official_compat=True``: no text mask, and the weights multiply a
      matrix whose every row is ``c u``, so ``V_Q_i = c u`` for every clip
      (the softmax rows sum to one): a learned constant, independent of the
      input (models.md §9 VideoLights item 2).

    Both modes have the same parameters (``cor_v_w``, ``cor_q_w``,
    ``sim_w``, ``sentence_pool.weight``, ``mixer``).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        dropout (float): Dropout of every branch. Defaults to 0.1.
        sentence_pool (dict): Pooling part. Defaults to ``WeightedPool``.
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 dropout: float = 0.1,
                 sentence_pool: dict = dict(type='WeightedPool'),
                 official_compat: bool = False) -> None:
        super().__init__()
        d = embed_dim
        self.embed_dim = d
        self.official_compat = official_compat
        self.dropout = Dropout(dropout)
        # Official: xavier_uniform_ on each free matrix (cor_q_w: a=sqrt(3)).
        self.sim_w = nn.Parameter(nn.init.xavier_uniform_(torch.empty(d, 1)))
        self.cor_v_w = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(1, d)))
        self.cor_q_w = nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(1, 1)))
        pool = dict(sentence_pool)
        pool.setdefault('embed_dim', d)
        self.sentence_pool = build_part(MODELS, pool)
        self.mixer = nn.Linear(4 * d, d)

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def correlation(self, video: Tensor, text: Tensor,
                    text_mask: Tensor) -> Tensor:
        """The word-level branch ``V_Q`` ``(B, L, d)`` (before dropout)."""
        scores = video @ text.transpose(1, 2)  # (B, L, T): <v_i, q_j>
        row = self.cor_q_w * self.cor_v_w  # (1, d) = c u
        if self.official_compat:
            # softmax over the words without a mask, times identical rows.
            weights = scores.softmax(-1)
            return weights @ row.expand(text.shape[1], -1)
        scores = scores.masked_fill(~text_mask.bool()[:, None], float('-inf'))
        return scores.softmax(-1) @ (text * row)

    def forward(self,
                video: Tensor,
                text: Tensor,
                video_mask: Tensor,
                text_mask: Tensor,
                sentence: Optional[Tensor] = None) -> Tensor:
        """Refine the clips.

        Args:
            video (Tensor): ``(B, L, d)``.
            text (Tensor): ``(B, T, d)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip.
            text_mask (Tensor): ``(B, T)``, 1 = valid token (at least one).
            sentence (Tensor, optional): Precomputed ``sentence_pool(text,
                text_mask)`` ``(B, d)``.

        Returns:
            Tensor: Refined clips ``(B, L, d)``.
        """
        if video.shape[-1] != self.embed_dim or text.shape[-1] != \
                self.embed_dim:
            raise ValueError(
                f'FeatureRefinement: video {tuple(video.shape)} and text '
                f'{tuple(text.shape)} must end with d={self.embed_dim}')
        b, num_clips, d = video.shape
        drop = self.dropout
        corr = drop(self.correlation(video, text, text_mask))
        if sentence is None:
            sentence = self.sentence_pool(text, text_mask)  # (B, d)
        sim = F.cosine_similarity(video, sentence[:, None], dim=-1)
        sim = sim + torch.where(video_mask.bool(), 0.0, PAD_LOG) \
            if self.official_compat else sim.masked_fill(
                ~video_mask.bool(), 0.0)
        sim_feats = drop(sim[..., None] * self.sim_w.view(1, 1, d))
        pooled = drop(sentence[:, None].expand(b, num_clips, d))
        feats = torch.cat([drop(video), sim_feats, pooled, corr], dim=2)
        return drop(F.relu(self.mixer(feats)))
