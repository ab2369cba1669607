# Copyright (c) mmmrhd contributors. All rights reserved.
"""MR -> HD feedback through a GRU summary of the top-1 moment (TR-DETR)."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from mmmrhd.registry import MODELS
from mmmrhd.structures.spans import span_cxw_to_xx

SIMILARITIES = ('dot', 'cosine')


def top1_clip_bounds(pred_logits: Tensor,
                     pred_spans: Tensor,
                     num_clips: int,
                     clip_len: float = 2.0,
                     sort: bool = False) -> Tensor:
    """Clip indices ``(st, ed)`` of the most confident query's span.

    ``floor(xx * (L * clip_len) / clip_len)`` of the query with the highest
    foreground probability ``softmax(logits)[..., 0]`` (official TR-DETR
    ``model.py`` ``MR2HD``). No gradient flows through the indices.

    Args:
        pred_logits (Tensor): ``(B, Q, C)``, index 0 = foreground.
        pred_spans (Tensor): ``(B, Q, 2)`` normalised ``(center, width)``.
        num_clips (int): ``L`` (padded length).
        clip_len (float): Seconds per clip (the official code scales by it
            and divides it out again). Defaults to 2.
        sort (bool): Pick the query with ``torch.sort`` (official) instead of
            ``argmax``; they differ only on exact ties.

    Returns:
        Tensor: int64 ``(B, 2)``; may be negative or ``>= L`` (not clamped).
    """
    with torch.no_grad():
        fg = pred_logits.softmax(-1)[..., 0]  # (B, Q)
        if sort:
            top = torch.sort(fg, dim=-1, descending=True)[1][:, 0]
        else:
            top = fg.argmax(-1)
        spans = span_cxw_to_xx(pred_spans.detach()) * (num_clips * clip_len)
        spans = torch.floor(spans / clip_len)
        picked = spans[torch.arange(spans.shape[0]), top]  # (B, 2)
        return picked.long()


@MODELS.register_module()
class SpanGRUFeedback(nn.Module):
    """Moment-to-highlight feedback: re-weight the clips by the top moment.

    TR-DETR's MR2HD (official ``model.py`` L205-247; models.md §4.2 item 8),
    also VideoLights' Uni-JFM (its own instance and saliency projection):

    1. ``(st, ed)`` = clip bounds of the top-1 query's span
       (:func:`top1_clip_bounds`);
    2. ``V[b, st:ed+1]`` (clip features, TR-DETR: the projected, pre-fusion
       video) is zero-padded to ``L`` and summarised by a 1-layer GRU:
       ``h`` = last hidden state ``(B, d)``;
    3. clip weights ``a_t = sim(h, V_t)``;
    4. ``memory' = memory * (1 + a)`` (computed as ``memory * a + memory``).

    The default follows the paper's evident intent: bounds clamped into the
    valid clips (``0 <= st <= ed < len``), the GRU reads only the moment's
    clips (packed sequence), ``a`` is the cosine similarity of ``h`` and
    ``V_t`` (the official code calls it cosine similarity), zero at padded
    clips. ``official_compat=True`` reproduces the release (fixtures README
    quirk 14): Python slicing with the raw bounds (a negative ``st`` counts
    from the end, so the slice is usually empty), the GRU reads the zero
    padding up to ``L``, and ``a`` is the unnormalised dot product at every
    position.

    Args:
        embed_dim (int): ``d`` (GRU input and hidden size). Defaults to 256.
        clip_len (float): See :func:`top1_clip_bounds`. Defaults to 2.
        similarity (str, optional): ``'dot'`` or ``'cosine'``; None = ``'dot'``
            with ``official_compat`` else ``'cosine'``.
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 clip_len: float = 2.0,
                 similarity: Optional[str] = None,
                 official_compat: bool = False) -> None:
        super().__init__()
        if similarity is None:
            similarity = 'dot' if official_compat else 'cosine'
        if similarity not in SIMILARITIES:
            raise ValueError(f'SpanGRUFeedback: similarity must be one of '
                             f'{SIMILARITIES}, got {similarity!r}')
        self.embed_dim = embed_dim
        self.clip_len = clip_len
        self.similarity = similarity
        self.official_compat = official_compat
        self.gru = nn.GRU(embed_dim, embed_dim, num_layers=1, batch_first=True)

    def extra_repr(self) -> str:
        return (f'similarity={self.similarity!r}, '
                f'official_compat={self.official_compat}')

    def _slice_bounds(self, bounds: Tensor,
                      video_mask: Tensor) -> Tuple[Tensor, Tensor]:
        """Start index and length of each slice ``(B,)``."""
        num_clips = video_mask.shape[1]
        st, ed = bounds[:, 0], bounds[:, 1]
        if self.official_compat:
            # Python slicing x[st:ed + 1] of a length-L axis.
            stop = ed + 1
            st = torch.where(st < 0, st + num_clips, st).clamp(0, num_clips)
            stop = torch.where(stop < 0, stop + num_clips,
                               stop).clamp(0, num_clips)
            return st, (stop - st).clamp(min=0)
        last = video_mask.sum(1).long() - 1
        st = torch.minimum(st.clamp(min=0), last)
        ed = torch.minimum(torch.maximum(ed, st), last)
        return st, ed - st + 1

    def summarize(self, clip_feats: Tensor, bounds: Tensor,
                  video_mask: Tensor) -> Tensor:
        """GRU summary ``h`` ``(B, d)`` of the clips inside ``bounds``.

        Args:
            clip_feats (Tensor): ``(B, L, d)``.
            bounds (Tensor): int64 ``(B, 2)`` clip indices ``(st, ed)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid.

        Returns:
            Tensor: ``(B, d)``.
        """
        b, num_clips, _ = clip_feats.shape
        st, length = self._slice_bounds(bounds.to(clip_feats.device),
                                        video_mask)
        steps = torch.arange(num_clips, device=clip_feats.device)
        idx = (st[:, None] + steps).clamp(max=num_clips - 1)  # (B, L)
        inside = steps[None] < length[:, None]
        sliced = clip_feats.gather(
            1, idx[..., None].expand(-1, -1, clip_feats.shape[2]))
        sliced = sliced * inside[..., None].to(sliced.dtype)
        if self.official_compat:
            _, h = self.gru(sliced)  # reads the zero padding up to L
        else:
            packed = pack_padded_sequence(
                sliced, length.cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.gru(packed)
        return h[-1]

    def forward(self, pred_logits: Tensor, pred_spans: Tensor,
                clip_feats: Tensor, memory: Tensor,
                video_mask: Tensor) -> Tuple[Tensor, Tensor]:
        """Re-weight ``memory`` by the top-1 moment.

        Args:
            pred_logits (Tensor): ``(B, Q, C)`` of the final decoder layer.
            pred_spans (Tensor): ``(B, Q, 2)`` normalised ``(center,
                width)``.
            clip_feats (Tensor): ``V`` ``(B, L, d)``.
            memory (Tensor): ``(B, L, d)``, the features scored for HD.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip.

        Returns:
            tuple[Tensor, Tensor]: ``memory * (1 + a)`` ``(B, L, d)`` and
            the weights ``a`` ``(B, L)``.
        """
        if clip_feats.shape != memory.shape:
            raise ValueError(f'SpanGRUFeedback: clip_feats '
                             f'{tuple(clip_feats.shape)} and memory '
                             f'{tuple(memory.shape)} must have equal shapes')
        bounds = top1_clip_bounds(pred_logits, pred_spans, memory.shape[1],
                                  self.clip_len, sort=self.official_compat)
        h = self.summarize(clip_feats, bounds, video_mask)  # (B, d)
        if self.similarity == 'dot':
            weight = (h[:, None] @ clip_feats.transpose(1, 2)).squeeze(1)
        else:
            weight = F.cosine_similarity(h[:, None], clip_feats, dim=-1)
        if not self.official_compat:
            weight = weight * video_mask.to(weight.dtype)
        return memory * weight[..., None] + memory, weight
