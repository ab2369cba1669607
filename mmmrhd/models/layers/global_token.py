# Copyright (c) mmmrhd contributors. All rights reserved.
"""Learned global ("saliency" / dummy) token of QD-DETR and VideoLights."""
from typing import Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class GlobalToken(nn.Module):
    """Prepend a learned token (with its own learned position) at index 0.

    QD-DETR (official ``qd_detr/model.py`` L121-128) concatenates
    ``global_rep_token`` (d,) in front of the clip tokens, ``global_rep_pos``
    (d,) in front of their positional encodings and a *valid* entry in front
    of their mask. The self-attention encoder then mixes it with the clips;
    its output (:meth:`split`) is the query-aware global summary that the
    :class:`~mmmrhd.models.heads.QuerySaliencyHead` compares every clip with.
    VideoLights and TR-DETR-style configs reuse it unchanged.

    Both parameters are initialised ``N(0, 1)`` (official ``torch.randn``).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
    """

    def __init__(self, embed_dim: int = 256) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        # Official names: global_rep_token / global_rep_pos (converters map).
        self.token = nn.Parameter(torch.randn(embed_dim))
        self.pos = nn.Parameter(torch.randn(embed_dim))

    def extra_repr(self) -> str:
        return f'embed_dim={self.embed_dim}'

    def forward(self, x: Tensor, mask: Tensor,
                pos: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Prepend the token.

        Args:
            x (Tensor): Tokens ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid (any dtype).
            pos (Tensor): Positional encodings ``(B, L, d)``.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``x`` ``(B, 1+L, d)``, ``mask``
            ``(B, 1+L)`` (same dtype, 1 at index 0) and ``pos``
            ``(B, 1+L, d)``.
        """
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f'GlobalToken: tokens must be (B, L, '
                             f'{self.embed_dim}), got {tuple(x.shape)}')
        if mask.shape != x.shape[:2] or pos.shape != x.shape:
            raise ValueError(
                f'GlobalToken: mask {tuple(mask.shape)} and pos '
                f'{tuple(pos.shape)} must match tokens {tuple(x.shape)}')
        b = x.shape[0]
        token = self.token.to(x.dtype).expand(b, 1, -1)
        token_pos = self.pos.to(pos.dtype).expand(b, 1, -1)
        valid = mask.new_ones(b, 1)
        return (torch.cat([token, x], 1), torch.cat([valid, mask], 1),
                torch.cat([token_pos, pos], 1))

    @staticmethod
    def split(x: Tensor) -> Tuple[Tensor, Tensor]:
        """Separate an encoded sequence into ``(global, local)``.

        Args:
            x (Tensor): ``(B, 1+L, d)`` output of an encoder run on the
                output of :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor]: ``global`` ``(B, d)`` and ``local``
            ``(B, L, d)`` (official ``memory[0]``, ``memory[1:]``).
        """
        return x[:, 0], x[:, 1:]
