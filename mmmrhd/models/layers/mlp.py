# Copyright (c) mmmrhd contributors. All rights reserved.
"""Small MLP and the clamped inverse sigmoid of the DETR heads."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class MLP(nn.Module):
    """``num_layers`` Linear layers with ReLU in between (DETR ``MLP``).

    Parameters are ``layers.<i>.weight`` / ``layers.<i>.bias``, as in the
    official ``MLP`` of the Moment-DETR family.

    Args:
        in_dim (int): Input width.
        hidden_dim (int): Width of the hidden layers.
        out_dim (int): Output width.
        num_layers (int): Number of Linear layers (>= 1).
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int,
                 num_layers: int) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'MLP: num_layers must be >= 1, got '
                             f'{num_layers}')
        self.num_layers = num_layers
        dims_in = [in_dim] + [hidden_dim] * (num_layers - 1)
        dims_out = [hidden_dim] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(
            nn.Linear(i, o) for i, o in zip(dims_in, dims_out))

    def forward(self, x: Tensor) -> Tensor:
        """Apply the MLP.

        Args:
            x (Tensor): ``(..., in_dim)``.

        Returns:
            Tensor: ``(..., out_dim)``.
        """
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < self.num_layers - 1:
                x = F.relu(x)
        return x


def inverse_sigmoid(x: Tensor, eps: float = 1e-3) -> Tensor:
    """``log(x / (1 - x))`` with the clamps of DAB-DETR.

    ``x`` is clamped to ``[0, 1]``, then numerator and denominator to
    ``>= eps`` (official ``inverse_sigmoid``, eps 1e-3; fixtures README quirk
    6).

    Args:
        x (Tensor): Values in (or near) ``[0, 1]``, any shape.
        eps (float): Lower clamp of ``x`` and ``1 - x``. Defaults to 1e-3.

    Returns:
        Tensor: Same shape as ``x``.
    """
    x = x.clamp(min=0, max=1)
    x1 = x.clamp(min=eps)
    x2 = (1 - x).clamp(min=eps)
    return torch.log(x1 / x2)
