# Copyright (c) mmmrhd contributors. All rights reserved.
"""LayerNorm over the channels of a ``(B, C, T)`` tensor."""
import torch
from torch import Tensor, nn


class ChannelLayerNorm(nn.Module):
    """Normalise each time step over its ``C`` channels (ActionFormer style).

    ``out = (x - mean_C) / sqrt(var_C + eps) * weight + bias`` with affine
    parameters of shape ``(1, C, 1)`` (official TaskWeave ``LayerNorm``,
    ``transformer.py`` L299-341, same op order).

    Args:
        num_channels (int): ``C``.
        eps (float): Defaults to 1e-5.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, num_channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1))

    def extra_repr(self) -> str:
        return f'num_channels={self.num_channels}, eps={self.eps}'

    def forward(self, x: Tensor) -> Tensor:
        """Normalise.

        Args:
            x (Tensor): ``(B, C, T)``.

        Returns:
            Tensor: ``(B, C, T)``.
        """
        if x.dim() != 3 or x.shape[1] != self.num_channels:
            raise ValueError(
                f'ChannelLayerNorm: expected (B, {self.num_channels}, T), '
                f'got {tuple(x.shape)}')
        mu = x.mean(dim=1, keepdim=True)
        res = x - mu
        sigma = (res**2).mean(dim=1, keepdim=True)
        out = res / torch.sqrt(sigma + self.eps)
        return out * self.weight + self.bias
