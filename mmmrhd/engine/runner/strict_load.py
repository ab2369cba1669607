# Copyright (c) mmmrhd contributors. All rights reserved.
"""Strict checkpoint loading: a checkpoint must fit the model exactly.

MMEngine loads checkpoints non-strictly (``Runner.load_checkpoint``,
``PretrainedInit`` and ``load_checkpoint`` all pass ``strict=False``) and
only logs the mismatch, and it skips weights whose shape differs. A
checkpoint of another model then "loads" and the tools print plausible
numbers of random weights. Here a mismatch raises one
:class:`~mmmrhd.utils.errors.CheckpointError` naming the keys, unless
partial loading is asked for explicitly: the top-level config key
``strict_load=False`` (``--cfg-options strict_load=False``) or
``init_cfg=dict(type='Pretrained', ..., strict=False)``. Even then a
checkpoint of which *no* weight fits is an error.
"""
import contextlib
import contextvars
import logging
import re
from collections import OrderedDict
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_with_prefix,
                                        _load_checkpoint_to_model)
from torch import nn

from mmmrhd.registry import WEIGHT_INITIALIZERS
from mmmrhd.utils.errors import CheckpointError

__all__ = [
    'STRICT_LOAD_KEY', 'OPT_OUT_HINT', 'strict_load_default',
    'default_strict_load', 'state_dict_mismatch', 'check_fit',
    'load_checked', 'load_into',
    'StrictPretrainedInit'
]

# The top-level config key (and its --cfg-options spelling).
STRICT_LOAD_KEY = 'strict_load'
OPT_OUT_HINT = (f'to load only the matching weights (e.g. to fine-tune), '
                f'set {STRICT_LOAD_KEY}=False '
                f'(--cfg-options {STRICT_LOAD_KEY}=False)')
# How many key names one message lists per kind.
_MAX_LISTED = 5
# MMEngine's default ``revise_keys`` (strip DDP's 'module.' prefix).
_REVISE_KEYS = [(r'^module.', '')]

_strict_default: contextvars.ContextVar = contextvars.ContextVar(
    'mmmrhd_strict_load', default=True)


def strict_load_default() -> bool:
    """The strictness used when a loader is not told (True by default)."""
    return _strict_default.get()


@contextlib.contextmanager
def default_strict_load(strict: bool) -> Iterator[None]:
    """Set :func:`strict_load_default` within the ``with`` block.

    The runner uses it around ``model.init_weights()`` so that
    ``init_cfg=dict(type='Pretrained')`` follows the config's
    ``strict_load``.
    """
    token = _strict_default.set(bool(strict))
    try:
        yield
    finally:
        _strict_default.reset(token)


def _listed(keys: Sequence[str]) -> str:
    shown = ', '.join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return shown + (f', ... ({more} more)' if more > 0 else '')


class StateDictMismatch:
    """Missing, unexpected and shape-mismatched keys of a state dict.

    Args:
        missing (list[str]): In the model, not in the checkpoint.
        unexpected (list[str]): In the checkpoint, not in the model.
        shapes (list[tuple]): ``(key, checkpoint shape, model shape)``.
        matched (int): Keys present in both with equal shapes.
    """

    def __init__(self, missing: List[str], unexpected: List[str],
                 shapes: List[Tuple[str, tuple, tuple]],
                 matched: int) -> None:
        self.missing = missing
        self.unexpected = unexpected
        self.shapes = shapes
        self.matched = matched

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shapes)

    def describe(self) -> str:
        """One line: counts and (truncated) names of each kind."""
        parts = []
        if self.missing:
            parts.append(f'{len(self.missing)} missing key(s) '
                         f'[{_listed(self.missing)}]')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} unexpected key(s) '
                         f'[{_listed(self.unexpected)}]')
        if self.shapes:
            shapes = [
                f'{key}: checkpoint {list(src)} vs model {list(dst)}'
                for key, src, dst in self.shapes
            ]
            parts.append(f'{len(self.shapes)} shape mismatch(es) '
                         f'[{_listed(shapes)}]')
        return '; '.join(parts)


def _state_dict_of(checkpoint: Any, source: str) -> Mapping:
    state_dict = checkpoint
    if isinstance(checkpoint, Mapping) and 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(
            f'checkpoint {source} holds no state dict (a '
            f'{type(state_dict).__name__}, not a dict of tensors)')
    return state_dict


def state_dict_mismatch(
        model: nn.Module,
        state_dict: Mapping,
        revise_keys: Sequence[Tuple[str, str]] = ()) -> StateDictMismatch:
    """Compare a state dict with ``model.state_dict()`` (keys and shapes).

    Args:
        model (nn.Module): The model (unwrapped).
        state_dict (Mapping): Weights to load.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` regex
            substitutions applied to the checkpoint keys first (as MMEngine
            does). Defaults to ().

    Returns:
        StateDictMismatch: Falsy when the two fit exactly. BatchNorm's
        ``num_batches_tracked`` may be missing (MMEngine's convention).
    """
    revised = OrderedDict()
    for key, value in state_dict.items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, key)
        revised[key] = value
    own = model.state_dict()
    missing = [
        k for k in own
        if k not in revised and 'num_batches_tracked' not in k
    ]
    unexpected = [k for k in revised if k not in own]
    shapes, matched = [], 0
    for key, value in revised.items():
        if key not in own:
            continue
        src = tuple(getattr(value, 'shape', ()))
        dst = tuple(own[key].shape)
        if src != dst:
            shapes.append((key, src, dst))
        else:
            matched += 1
    return StateDictMismatch(missing, unexpected, shapes, matched)


def check_fit(model: nn.Module,
              checkpoint: Any,
              source: str,
              strict: Optional[bool] = None,
              revise_keys: Sequence[Tuple[str, str]] = _REVISE_KEYS,
              hint: str = OPT_OUT_HINT) -> None:
    """Check that ``checkpoint`` fits ``model``; loads nothing.

    Args:
        model (nn.Module): The model (unwrapped).
        checkpoint (Any): A loaded checkpoint: a state dict, or a dict with a
            ``state_dict`` entry.
        source (str): Its file name / URL, for messages.
        strict (bool, optional): Raise on any mismatch (else log a warning).
            None uses :func:`strict_load_default`. Defaults to None.
        revise_keys (Sequence[tuple]): Key substitutions, see
            :func:`state_dict_mismatch`.
        hint (str): How to opt out, appended to the strict error.

    Raises:
        CheckpointError: Strict and the checkpoint does not fit exactly, or
            (strict or not) not a single weight of it fits the model.
    """
    if strict is None:
        strict = strict_load_default()
    state_dict = _state_dict_of(checkpoint, source)
    mismatch = state_dict_mismatch(model, state_dict, revise_keys)
    name = type(model).__name__
    if mismatch and mismatch.matched == 0 and len(model.state_dict()):
        raise CheckpointError(
            f'checkpoint {source} does not fit the model {name} at all: no '
            f'weight has a matching name and shape ({mismatch.describe()}); '
            'is it a checkpoint of another model?')
    if mismatch and strict:
        raise CheckpointError(
            f'checkpoint {source} does not fit the model {name}: '
            f'{mismatch.describe()}; {hint}')
    if mismatch:
        print_log(
            f'Partial loading of {source} into {name} (strict loading is '
            f'off): {mismatch.matched} weights loaded; {mismatch.describe()}',
            logger='current',
            level=logging.WARNING)


def load_checked(model: nn.Module,
                 checkpoint: Any,
                 source: str,
                 strict: Optional[bool] = None,
                 revise_keys: Sequence[Tuple[str, str]] = _REVISE_KEYS,
                 hint: str = OPT_OUT_HINT) -> None:
    """:func:`check_fit`, then load ``checkpoint`` into ``model``.

    Arguments and errors as in :func:`check_fit`; nothing is loaded when it
    raises. Weights that do not fit (non-strict) are skipped.
    """
    check_fit(model, checkpoint, source, strict, revise_keys, hint)
    load_into(model, checkpoint, revise_keys)


def load_into(model: nn.Module,
              checkpoint: Any,
              revise_keys: Sequence[Tuple[str, str]] = _REVISE_KEYS) -> None:
    """MMEngine's non-strict load, silent (:func:`check_fit` reported)."""
    _load_checkpoint_to_model(
        model,
        checkpoint,
        strict=False,
        logger='silent',
        revise_keys=list(revise_keys))


@WEIGHT_INITIALIZERS.register_module(name=['Pretrained', 'StrictPretrained'])
class StrictPretrainedInit(PretrainedInit):
    """``init_cfg=dict(type='Pretrained')`` that checks the fit.

    Under ``default_scope='mmmrhd'`` this replaces MMEngine's
    ``PretrainedInit`` (same arguments, plus ``strict``); weights are loaded
    weights-only like every checkpoint (:mod:`mmmrhd.utils.checkpoint`).

    Args:
        checkpoint (str): Checkpoint path or URL.
        prefix (str, optional): Load only the weights under this prefix of
            the checkpoint (e.g. ``'backbone.'``). Defaults to None.
        map_location (str): Defaults to ``'cpu'``.
        strict (bool, optional): Raise when the (prefixed) weights do not
            fit the module exactly. None follows the config's
            ``strict_load`` (True unless set). Defaults to None.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 strict: Optional[bool] = None) -> None:
        super().__init__(checkpoint, prefix=prefix, map_location=map_location)
        self.strict = strict

    def __call__(self, module: nn.Module) -> None:
        """Load the weights into ``module``."""
        if self.prefix is None:
            print_log(f'load model from: {self.checkpoint}', logger='current')
            checkpoint = _load_checkpoint(
                self.checkpoint, map_location=self.map_location)
        else:
            print_log(
                f'load {self.prefix} in model from: {self.checkpoint}',
                logger='current')
            checkpoint = _load_checkpoint_with_prefix(
                self.prefix, self.checkpoint, map_location=self.map_location)
        load_checked(
            module,
            checkpoint,
            self.checkpoint,
            strict=self.strict,
            hint='to load only the matching weights, set strict=False in '
            f'this init_cfg or {STRICT_LOAD_KEY}=False in the config')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
