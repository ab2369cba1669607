# Copyright (c) mmmrhd contributors. All rights reserved.
"""Input projection (backbone adapter) with a declared stream layout."""
from typing import Any, Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .dropout import Dropout


class ProjectionLayer(nn.Module):
    """LayerNorm -> Dropout -> Linear -> optional ReLU (official
    ``LinearLayer`` with ``layer_norm=True``).

    Args:
        in_dim (int): Input width.
        out_dim (int): Output width.
        dropout (float): Dropout before the Linear.
        relu (bool): Whether to end with a ReLU.
    """

    def __init__(self, in_dim: int, out_dim: int, dropout: float,
                 relu: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(in_dim)
        # In place: the LayerNorm output is fresh and its backward does not
        # read it.
        self.dropout = Dropout(dropout, inplace=True)
        self.fc = nn.Linear(in_dim, out_dim)
        self.relu = relu

    def extra_repr(self) -> str:
        return f'relu={self.relu}'

    def forward(self, x: Tensor) -> Tensor:
        """``(B, L, in_dim) -> (B, L, out_dim)``."""
        x = self.fc(self.dropout(self.norm(x)))
        return F.relu(x) if self.relu else x


def _layout_str(names: Sequence[str], dims: Sequence[int]) -> str:
    return ' + '.join(f'{n} {d}' for n, d in zip(names, dims))


@MODELS.register_module()
class InputProjection(nn.Module):
    """Project concatenated backbone features to the model width.

    The input is the concatenation of feature *streams* (e.g. SlowFast,
    CLIP and the 2 temporal-endpoint columns), declared in the config::

        streams=[dict(name='slowfast', dim=2304), dict(name='clip', dim=512),
                 dict(name='tef', dim=2)]

    The projection is ``num_layers`` :class:`ProjectionLayer` s (official
    ``n_input_proj = 2``: ``LN -> Drop(0.5) -> Linear(D_in, d) -> ReLU``,
    ``LN -> Drop(0.5) -> Linear(d, d)``); every layer but the last ends with
    a ReLU (official ``relu_args``).

    The layout is stored in the checkpoint as two persistent integer buffers,
    ``stream_dims`` (int64, one width per stream) and ``stream_names``
    (uint8, the UTF-8 bytes of the comma-joined names). Buffers rather than
    ``get_extra_state`` because MMEngine's EMA with ``update_buffers=True``
    treats every ``state_dict`` value as a tensor. Loading a checkpoint whose
    layout differs from the config, and feeding features whose width differs
    from the declared sum, raise a ValueError naming both layouts.

    Args:
        streams (Sequence[dict]): ``dict(name=str, dim=int)`` per stream, in
            column order.
        out_dim (int): Model width ``d``. Defaults to 256.
        num_layers (int): Number of projection layers. Defaults to 2.
        dropout (float): Dropout of every layer. Defaults to 0.5 (official
            ``input_dropout``).
        input_name (str): Name of the input in error messages. Defaults to
            ``'video_feat'``.
    """

    def __init__(self,
                 streams: Sequence[Dict[str, Any]],
                 out_dim: int = 256,
                 num_layers: int = 2,
                 dropout: float = 0.5,
                 input_name: str = 'video_feat') -> None:
        super().__init__()
        names, dims = self._parse_streams(streams, input_name)
        if num_layers < 1:
            raise ValueError(f'InputProjection ({input_name}): num_layers '
                             f'must be >= 1, got {num_layers}')
        self.names: List[str] = names
        self.dims: List[int] = dims
        self.in_dim = sum(dims)
        self.out_dim = out_dim
        self.input_name = input_name
        self.register_buffer('stream_dims', torch.tensor(dims))
        self.register_buffer(
            'stream_names',
            torch.tensor(
                list(','.join(names).encode('utf-8')), dtype=torch.uint8))
        self.layers = nn.ModuleList(
            ProjectionLayer(
                self.in_dim if i == 0 else out_dim,
                out_dim,
                dropout,
                relu=i < num_layers - 1) for i in range(num_layers))

    @staticmethod
    def _parse_streams(streams: Sequence[Dict[str, Any]], input_name: str):
        if not streams:
            raise ValueError(f'InputProjection ({input_name}): streams is '
                             'empty')
        names, dims = [], []
        for i, s in enumerate(streams):
            if not isinstance(s, dict) or set(s) != {'name', 'dim'}:
                raise ValueError(
                    f'InputProjection ({input_name}): streams[{i}] must be '
                    f"dict(name=str, dim=int), got {s!r}")
            name, dim = s['name'], s['dim']
            if not isinstance(name, str) or not name or ',' in name:
                raise ValueError(
                    f'InputProjection ({input_name}): streams[{i}].name must '
                    f"be a non-empty string without ',', got {name!r}")
            if not isinstance(dim, int) or dim < 1:
                raise ValueError(
                    f'InputProjection ({input_name}): streams[{i}].dim must '
                    f'be a positive int, got {dim!r}')
            names.append(name)
            dims.append(dim)
        if len(set(names)) != len(names):
            raise ValueError(f'InputProjection ({input_name}): duplicate '
                             f'stream names {names}')
        return names, dims

    def extra_repr(self) -> str:
        return (f'streams=({_layout_str(self.names, self.dims)}), '
                f'in_dim={self.in_dim}, out_dim={self.out_dim}')

    @staticmethod
    def layout_state(streams: Sequence[Dict[str, Any]]) -> Dict[str, Tensor]:
        """The ``stream_dims`` / ``stream_names`` buffers of a layout.

        Used by checkpoint converters to add the layout to official weights.

        Args:
            streams (Sequence[dict]): ``dict(name, dim)`` per stream.

        Returns:
            dict[str, Tensor]: ``{'stream_dims': int64, 'stream_names':
            uint8}``.
        """
        names, dims = InputProjection._parse_streams(streams, 'layout')
        return dict(
            stream_dims=torch.tensor(dims),
            stream_names=torch.tensor(
                list(','.join(names).encode('utf-8')), dtype=torch.uint8))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys,
                              error_msgs) -> None:
        dims = state_dict.get(prefix + 'stream_dims')
        names = state_dict.get(prefix + 'stream_names')
        if dims is not None and names is not None:
            ckpt_dims = [int(d) for d in dims.tolist()]
            ckpt_names = bytes(names.tolist()).decode('utf-8').split(',')
            if ckpt_dims != self.dims or ckpt_names != self.names:
                raise ValueError(
                    f'{prefix}: the checkpoint declares {self.input_name} '
                    f'streams ({_layout_str(ckpt_names, ckpt_dims)}) but the '
                    f'config declares ({_layout_str(self.names, self.dims)})')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x: Tensor) -> Tensor:
        """Project features.

        Args:
            x (Tensor): ``(B, L, in_dim)``.

        Returns:
            Tensor: ``(B, L, out_dim)``.
        """
        if x.shape[-1] != self.in_dim:
            raise ValueError(
                f'{self.input_name} has {x.shape[-1]} columns but the '
                f'declared streams sum to {self.in_dim} '
                f'({_layout_str(self.names, self.dims)})')
        for layer in self.layers:
            x = layer(x)
        return x
