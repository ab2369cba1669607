# Copyright (c) mmmrhd contributors. All rights reserved.
"""Positional encodings of videos, texts and 1-D spans.

Every module maps ``(x (B, L, D), mask (B, L))`` to a positional encoding of
shape ``(B, L, D)`` (the learned one returns an embedded sequence, see
:class:`LearnedPositionalEncoding`).
"""
import math
from typing import Optional

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .dropout import Dropout


@MODELS.register_module()
class SinePositionalEncoding1D(nn.Module):
    """Normalised sine encoding of clip positions (DETR, 1-D).

    Position of clip ``i`` = ``cumsum(mask)_i / (cumsum(mask)_{-1} + 1e-6) *
    scale``; channel ``k`` uses the divisor ``temperature ** (2 * (k // 2) /
    dim)``, sine on even and cosine on odd channels (interleaved). Padded
    clips therefore get the position of the last valid clip, not zeros
    (official ``PositionEmbeddingSine``, ``normalize=True``; fixtures README
    quirk 7).

    Args:
        dim (int): Number of channels (official ``num_pos_feats = d``).
        temperature (float): Defaults to 10000.
        normalize (bool): Normalise positions to ``(0, scale]``. Defaults to
            True (the official setting).
        scale (float): Defaults to ``2 * pi``.
        eps (float): Added to the last cumulative value (official 1e-6).
    """

    def __init__(self,
                 dim: int = 256,
                 temperature: float = 10000,
                 normalize: bool = True,
                 scale: float = 2 * math.pi,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f'SinePositionalEncoding1D: dim must be even, '
                             f'got {dim}')
        self.dim = dim
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale
        self.eps = eps

    def extra_repr(self) -> str:
        return (f'dim={self.dim}, temperature={self.temperature}, '
                f'normalize={self.normalize}')

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Encode clip positions.

        Args:
            x (Tensor): Features ``(B, L, *)`` (only the device is used).
            mask (Tensor): ``(B, L)``, 1 = valid clip.

        Returns:
            Tensor: ``(B, L, dim)`` float32.
        """
        pos = mask.cumsum(1, dtype=torch.float32)  # (B, L)
        if self.normalize:
            pos = pos / (pos[:, -1:] + self.eps) * self.scale
        dim_t = torch.arange(self.dim, dtype=torch.float32, device=x.device)
        dim_t = self.temperature**(2 * (dim_t // 2) / self.dim)
        pos = pos[:, :, None] / dim_t  # (B, L, dim)
        return torch.stack((pos[:, :, 0::2].sin(), pos[:, :, 1::2].cos()),
                           dim=3).flatten(2)


@MODELS.register_module()
class ZeroPositionalEncoding(nn.Module):
    """All-zero encoding (the official text "position", ``use_txt_pos=False``).

    Args:
        dim (int, optional): Output width. Defaults to the input width.
    """

    def __init__(self, dim: Optional[int] = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Return zeros.

        Args:
            x (Tensor): ``(B, L, D)``.
            mask (Tensor): ``(B, L)`` (unused).

        Returns:
            Tensor: Zeros ``(B, L, dim or D)`` like ``x``.
        """
        dim = self.dim or x.shape[-1]
        return x.new_zeros(x.shape[:2] + (dim, ))


@MODELS.register_module()
class LearnedPositionalEncoding(nn.Module):
    """``LayerNorm(x + E[position])`` with dropout (official
    ``TrainablePositionalEncoding``).

    This is what the official ``use_txt_pos=True`` adds to the text keys: an
    embedded sequence, not a pure position code. Parameters: ``embed``
    Embedding(num_positions, dim) and ``norm`` LayerNorm(dim). TaskWeave
    (and QD/TR-DETR) build it with ``num_positions = max_q_l = 32`` and never
    use it; :class:`~mmmrhd.models.detectors.TaskWeave` keeps an unused copy
    in official-compat mode so that the parameter count and official
    checkpoints match.

    Args:
        num_positions (int): Longest sequence.
        dim (int): Width ``D``.
        dropout (float): Dropout after the norm. Defaults to 0.1.
    """

    def __init__(self,
                 num_positions: int,
                 dim: int,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.num_positions = num_positions
        self.embed = nn.Embedding(num_positions, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Embed the sequence.

        Args:
            x (Tensor): ``(B, L, dim)`` with ``L <= num_positions``.
            mask (Tensor, optional): Unused.

        Returns:
            Tensor: ``(B, L, dim)``.
        """
        length = x.shape[1]
        if length > self.num_positions:
            raise ValueError(
                f'LearnedPositionalEncoding: sequence length {length} '
                f'exceeds num_positions {self.num_positions}')
        ids = torch.arange(length, device=x.device)
        return self.dropout(self.norm(x + self.embed(ids)[None]))


def span_sine_embedding(spans: Tensor,
                        dim: int = 256,
                        temperature: float = 10000) -> Tensor:
    """Sine embedding of ``(center, width)`` anchors (DAB-DETR, 1-D).

    Each coordinate is scaled by ``2 * pi`` and encoded on ``dim // 2``
    channels with the divisor ``temperature ** (2 * (k // 2) / (dim // 2))``
    (sine on even, cosine on odd channels); the output is
    ``[PE(center), PE(width)]`` (official ``gen_sineembed_for_position``,
    which hard-codes ``dim // 2 = 128``).

    Args:
        spans (Tensor): ``(..., 2)`` normalised ``(center, width)``.
        dim (int): Output width (even halves). Defaults to 256.
        temperature (float): Defaults to 10000.

    Returns:
        Tensor: ``(..., dim)``.
    """
    half = dim // 2
    dim_t = torch.arange(half, dtype=torch.float32, device=spans.device)
    dim_t = temperature**(2 * (dim_t // 2) / half)
    embeds = []
    for c in range(2):
        p = (spans[..., c] * (2 * math.pi))[..., None] / dim_t
        embeds.append(
            torch.stack((p[..., 0::2].sin(), p[..., 1::2].cos()),
                        dim=-1).flatten(-2))
    return torch.cat(embeds, dim=-1)
