# Copyright (c) mmmrhd contributors. All rights reserved.
"""Small helpers shared by the loss modules (key look-up, shape checks)."""
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from torch import Tensor

#: Suffix of the auxiliary-decoder-layer copies of a loss (``loss_span_0``),
#: as produced by the official ``SetCriterion.forward``.
_AUX_SUFFIX = re.compile(r'^(?P<base>.+)_(?P<layer>\d+)$')


def get_key(mapping: Mapping[str, Any], key: str, owner: str,
            what: str) -> Any:
    """Return ``mapping[key]`` or raise a KeyError naming what is present.

    Args:
        mapping (Mapping): The dict to read.
        key (str): The required key.
        owner (str): Who needs it (for the message), e.g.
            ``'MomentCriterion'``.
        what (str): What the mapping is (for the message), e.g. ``'outputs'``.

    Returns:
        Any: The value.
    """
    if key not in mapping:
        raise KeyError(f"{owner}: '{key}' is missing from {what}; present: "
                       f'{sorted(mapping.keys())}')
    return mapping[key]


def check_shape(tensor: Tensor, shape: Sequence[Optional[int]], owner: str,
                name: str) -> None:
    """Raise a ValueError unless ``tensor`` has ``shape`` (None = any size).

    Args:
        tensor (Tensor): The tensor to check.
        shape (Sequence[int | None]): Expected shape; ``None`` entries match
            any size.
        owner (str): Who checks (for the message).
        name (str): The tensor's name (for the message).
    """
    ok = tensor.dim() == len(shape) and all(
        s is None or int(d) == s for d, s in zip(tensor.shape, shape))
    if not ok:
        expected = tuple('*' if s is None else s for s in shape)
        raise ValueError(f'{owner}: {name} must have shape {expected}, got '
                         f'{tuple(tensor.shape)}')


def check_matched_spans(pred_spans: Tensor, target_spans: Tensor,
                        owner: str) -> None:
    """Check matched ``(N, 2)`` prediction / target span pairs.

    Args:
        pred_spans (Tensor): ``(N, 2)``.
        target_spans (Tensor): ``(N, 2)``, the same ``N``.
        owner (str): Who checks (for the message).
    """
    check_shape(pred_spans, (None, 2), owner, 'pred_spans')
    check_shape(target_spans, (pred_spans.shape[0], 2), owner, 'target_spans')


def split_aux_key(key: str) -> Tuple[str, Optional[int]]:
    """Split ``'loss_span_1'`` into ``('loss_span', 1)``.

    Args:
        key (str): A loss key.

    Returns:
        tuple[str, int | None]: The base key and the auxiliary layer index,
        or ``(key, None)`` when the key has no ``_<int>`` suffix.
    """
    m = _AUX_SUFFIX.match(key)
    if m is None:
        return key, None
    return m.group('base'), int(m.group('layer'))


def select_loss_keys(losses: Mapping[str, Any],
                     groups: Dict[str, Sequence[str]],
                     aux: bool,
                     owner: str,
                     aux_groups: Optional[Sequence[str]] = None
                     ) -> List[Tuple[str, str]]:
    """Assign every loss key of ``losses`` to one group, strictly.

    A key belongs to group ``g`` when it equals one of ``groups[g]`` or, with
    ``aux=True`` and ``g`` in ``aux_groups``, when it is such a key plus an
    auxiliary-layer suffix ``_<i>``. Keys are returned in the iteration order
    of ``losses`` (the official summation order).

    Raises a KeyError when a base key is missing, when an auxiliary layer
    lacks some of the base keys of a group, or when a key that starts with
    ``'loss'`` belongs to no group (it would otherwise be silently dropped
    from the total). Other keys (``class_error``, logging-only terms) are
    ignored.

    Args:
        losses (Mapping[str, Any]): The loss dict.
        groups (dict[str, Sequence[str]]): Group name -> base keys.
        aux (bool): Whether auxiliary-layer copies are accepted.
        owner (str): Who asks (for the messages).
        aux_groups (Sequence[str], optional): Groups whose keys may have
            auxiliary copies. Defaults to all groups.

    Returns:
        list[tuple[str, str]]: ``(key, group)`` for every selected key, in
        ``losses`` order.
    """
    aux_groups = list(groups) if aux_groups is None else list(aux_groups)
    base_to_group = {}
    for g, keys in groups.items():
        for k in keys:
            if k in base_to_group:
                raise ValueError(f"{owner}: key '{k}' is in two groups")
            base_to_group[k] = g
    selected: List[Tuple[str, str]] = []
    aux_seen: Dict[int, set] = {}
    unknown = []
    for key in losses:
        if key in base_to_group:
            selected.append((key, base_to_group[key]))
            continue
        base, layer = split_aux_key(key)
        if (aux and layer is not None and base in base_to_group
                and base_to_group[base] in aux_groups):
            selected.append((key, base_to_group[base]))
            aux_seen.setdefault(layer, set()).add(base)
            continue
        if key.startswith('loss'):
            unknown.append(key)
    present = sorted(losses.keys())
    missing = [k for k in base_to_group if k not in losses]
    if missing:
        raise KeyError(f'{owner}: expected loss key(s) {missing} are '
                       f'missing; present: {present}')
    if unknown:
        raise KeyError(f'{owner}: loss key(s) {unknown} belong to no group '
                       f'of {dict(groups)} (aux={aux}); they would be '
                       f'dropped from the total; present: {present}')
    aux_bases = [k for k, g in base_to_group.items() if g in aux_groups]
    for layer, bases in sorted(aux_seen.items()):
        lacking = [k for k in aux_bases if k not in bases]
        if lacking:
            raise KeyError(
                f'{owner}: auxiliary layer {layer} lacks '
                f"{[f'{k}_{layer}' for k in lacking]}; present: {present}")
    return selected


def sequential_sum(values: Sequence[Tensor]) -> Tensor:
    """``((v0 + v1) + v2) + ...``, the order of Python's built-in ``sum``.

    Args:
        values (Sequence[Tensor]): At least one tensor.

    Returns:
        Tensor: The sum.
    """
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total
