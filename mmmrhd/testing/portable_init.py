# Copyright (c) mmmrhd contributors. All rights reserved.
"""Rebuild the official-key weights of a reference fixture.

The model fixtures in ``shared/fixtures`` ship no weights; each holds a
per-key table (``portable_init``) from which the weights follow by a fixed
rule (fixtures README §3): every key gets its own CPU generator seeded with
``(SEED * 1000003 + CRC32(key)) mod (2**63 - 1)`` and one draw by kind.
"""
import hashlib
import math
import zlib
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional

import torch
from torch import Tensor

#: Multiplier and modulus of the per-key seed (README §3, step 1).
_SEED_MULT = 1000003
_SEED_MOD = 2**63 - 1
_DTYPES = {'float32': torch.float32, 'float64': torch.float64}


def portable_init_value(key: str,
                        entry: Mapping[str, Any],
                        keep: Optional[Mapping[str, Tensor]] = None) -> Tensor:
    """The value of one table entry.

    Args:
        key (str): Official state_dict key.
        entry (Mapping): ``{'shape', 'dtype', 'kind', 'seed', ...}``.
        keep (Mapping[str, Tensor], optional): Values of kind ``'keep'``.

    Returns:
        Tensor: The entry's tensor.
    """
    shape = [int(s) for s in entry['shape']]
    kind = entry['kind']
    dtype_name = entry['dtype']
    if dtype_name not in _DTYPES:
        raise ValueError(f"portable init: '{key}' has unsupported dtype "
                         f"'{dtype_name}'")
    gen = torch.Generator(device='cpu')
    gen.manual_seed(
        (int(entry['seed']) * _SEED_MULT + zlib.crc32(key.encode('utf-8'))) %
        _SEED_MOD)
    if kind == 'xavier':
        receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        value = (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 -
                 1) * bound
    elif kind == 'one':
        value = 0.1 * torch.randn(
            shape, generator=gen, dtype=torch.float32) + 1.0
    elif kind == 'prelu':
        value = 0.05 * torch.randn(
            shape, generator=gen, dtype=torch.float32) + 0.25
    elif kind == 'small':
        value = 0.1 * torch.randn(shape, generator=gen, dtype=torch.float32)
    elif kind == 'zero':
        value = torch.zeros(shape, dtype=torch.float32)
    elif kind == 'keep':
        if keep is None or key not in keep:
            raise KeyError(f"portable init: '{key}' has kind 'keep' but no "
                           'value in portable_init_keep')
        value = keep[key]
    else:
        raise ValueError(f"portable init: '{key}' has unknown kind '{kind}'")
    return value.to(_DTYPES[dtype_name]).reshape(shape)


def rebuild_official_state_dict(
    portable_init: Mapping[str, Mapping[str, Any]],
    portable_init_keep: Optional[Mapping[str, Tensor]] = None
) -> 'OrderedDict[str, Tensor]':
    """Rebuild an official-key state_dict from a fixture's table.

    Args:
        portable_init (Mapping): ``fx['portable_init']`` (key -> entry), in
            official order.
        portable_init_keep (Mapping, optional): ``fx['portable_init_keep']``.

    Returns:
        OrderedDict[str, Tensor]: Official keys, in table order.
    """
    return OrderedDict(
        (key, portable_init_value(key, entry, portable_init_keep))
        for key, entry in portable_init.items())


def tensor_sha256(t: Tensor) -> str:
    """SHA-256 of a tensor's raw C-contiguous bytes."""
    return hashlib.sha256(
        t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def state_dict_sha256(state_dict: Mapping[str, Tensor]) -> str:
    """SHA-256 of a state_dict (fixtures README §3 "Checks").

    Keys in sorted order; per key the key (UTF-8), the dtype string (e.g.
    ``'torch.float32'``), the shape as a Python tuple repr, then the raw
    bytes.

    Args:
        state_dict (Mapping[str, Tensor]): The weights.

    Returns:
        str: Hex digest.
    """
    h = hashlib.sha256()
    for key in sorted(state_dict):
        t = state_dict[key].detach().cpu().contiguous()
        h.update(key.encode('utf-8'))
        h.update(str(t.dtype).encode('utf-8'))
        h.update(repr(tuple(t.shape)).encode('utf-8'))
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def mismatching_keys(
        state_dict: Mapping[str, Tensor],
        portable_init: Mapping[str, Mapping[str, Any]]) -> Dict[str, str]:
    """Keys whose per-entry hash differs from the table (for diagnosis).

    Returns:
        dict[str, str]: key -> reason.
    """
    bad = {}
    for key, entry in portable_init.items():
        if key not in state_dict:
            bad[key] = 'missing'
        elif tensor_sha256(state_dict[key]) != entry['sha256']:
            bad[key] = 'sha256 differs'
    return bad
