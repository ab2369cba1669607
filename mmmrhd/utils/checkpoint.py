# Copyright (c) mmmrhd contributors. All rights reserved.
"""Safe checkpoint loading for MMEngine 0.10.x on PyTorch >= 2.6.

**Why.** MMEngine 0.10.7 loads every local checkpoint with a bare
``torch.load(filename, map_location=...)`` (``mmengine/runner/checkpoint.py``,
``load_from_local``). Since PyTorch 2.6 that means ``weights_only=True``, which
refuses MMEngine's *own* checkpoints (their ``message_hub`` holds
:class:`mmengine.logging.HistoryBuffer` objects and numpy data), so
``resume=True`` fails. The usual workaround, ``weights_only=False``, lets any
downloaded checkpoint run arbitrary code while being unpickled.

**What.** Importing :mod:`mmmrhd` replaces MMEngine's loaders of *every*
scheme it knows (local paths, ``http(s)://``, ``open-mmlab://``,
``openmmlab://``, ``torchvision://``, ``modelzoo://``, ``mmcls://``,
``pavi://``, ``s3://``, ``petrel://``) with the loaders of this module
(:func:`register_checkpoint_loaders`). All of them end in one
``torch.load(weights_only=True)`` that, only for the duration of that call,
allows the plain-data types listed in :func:`checkpoint_safe_globals`. That
covers ``resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``,
:func:`mmengine.runner.load_checkpoint`, converters and inference alike:
third-party state dicts load as before, MMEngine training checkpoints resume,
and a pickle that references anything else is refused with
:class:`UntrustedCheckpointError`. Empty, truncated or foreign files raise
:class:`UnreadableCheckpointError`, missing ones
:class:`MissingCheckpointError`; all three are
:class:`~mmmrhd.utils.errors.CheckpointError` with a one-line message naming
the file. Downloads (``http(s)://`` and the hub schemes that resolve to URLs)
are cached under a hash of the full URL, and only after they loaded, so a
refused file never lands in the cache.

The allowlist was found by experiment (the globals referenced by
``CheckpointHook`` checkpoints of a toy run with ``EMAHook``, ``save_best`` and
``MultiStepLR`` under numpy 2.4) and is kept minimal:

* ``mmengine.logging.HistoryBuffer``: the logged scalars in ``message_hub``;
  its state is two arrays and an int.
* ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``
  and the dtype classes ``Float64DType``, ``Int64DType`` (the arrays inside
  ``HistoryBuffer``: ``MessageHub`` turns every value into a python ``int`` or
  ``float``) and ``Float32DType`` (``CheckpointHook`` stores the best metric as
  returned by the metric, often ``np.float32``). Object arrays stay refused,
  because ``ObjectDType`` is not allowed.
* ``numpy._core.multiarray.scalar``, wrapped by :func:`_numeric_scalar` that
  only builds bool/int/float scalars (``runtime_info['eta']`` and
  ``['best_score']`` are numpy scalars).
* **not** ``builtins.getattr``. It appears because
  ``HistoryBuffer.__getstate__`` pickles the class-level
  ``_statistics_methods`` dict, and protocol-2 pickle stores a method such as
  ``HistoryBuffer.min`` as ``getattr(HistoryBuffer, 'min')``. Allowing the real
  ``getattr`` would let a pickle fetch any attribute of any allowed object, so
  that pickle name is bound to :func:`_history_buffer_statistic` instead, which
  only resolves MMEngine's four default statistics of ``HistoryBuffer``. This
  works for checkpoints written by plain MMEngine too, so nothing has to be
  sanitised at save time.
* numpy 1.x spells the module ``numpy.core.multiarray``; both spellings map to
  the same objects so checkpoints written under numpy 1.x load too.

**Opting in to a trusted file.** A checkpoint that needs anything else
(e.g. a whole pickled ``argparse`` namespace, as in the official Moment-DETR
family checkpoints, or MMEngine's ``OneCycleLR`` state, which holds a bound
method) raises :class:`UntrustedCheckpointError` naming the file and the
offending global. If you trust the file, load it with ``weights_only=False``
explicitly: pass ``trusted=True`` to :func:`load_checkpoint_file`, or set the
environment variable ``MMMRHD_TRUST_CHECKPOINTS=1`` for one command. Never
load untrusted files that way: unpickling can execute arbitrary code.
"""
import logging
import os
import os.path as osp
import pickle
from typing import (IO, Any, Callable, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

from .errors import CheckpointError

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

__all__ = [
    'TRUST_ENV_VAR', 'UntrustedCheckpointError', 'UnreadableCheckpointError',
    'MissingCheckpointError', 'checkpoint_safe_globals',
    'load_checkpoint_file', 'load_from_local', 'cached_file_name',
    'load_from_http', 'load_from_openmmlab', 'load_from_torchvision',
    'load_from_mmcls', 'load_from_pavi', 'load_from_ceph',
    'register_checkpoint_loaders'
]

#: Environment variable that opts in to ``weights_only=False`` loading.
TRUST_ENV_VAR = 'MMMRHD_TRUST_CHECKPOINTS'
_TRUE_VALUES = ('1', 'true', 'yes', 'on')
_FALSE_VALUES = ('', '0', 'false', 'no', 'off')

# The statistics MMEngine registers on every HistoryBuffer
# (mmengine/logging/history_buffer.py, ``_set_default_statistics``).
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

MapLocation = Union[None, str, torch.device, Callable, dict]


class UntrustedCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint references a global outside the safe allowlist."""


class UnreadableCheckpointError(CheckpointError):
    """A checkpoint file is empty, truncated or not a PyTorch checkpoint."""


class MissingCheckpointError(CheckpointError, FileNotFoundError):
    """A checkpoint file does not exist."""


def _history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stand-in for ``getattr`` while unpickling a checkpoint.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'min')`` etc. Only those lookups are honoured.

    Args:
        owner (Any): The object the pickle asks an attribute of.
        name (str): The attribute name.

    Returns:
        Callable: ``getattr(HistoryBuffer, name)``.

    Raises:
        UntrustedCheckpointError: For any other object or attribute.
    """
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise UntrustedCheckpointError(
        f'getattr({owner!r}, {name!r}) is not allowed; only '
        f'HistoryBuffer.{{{",".join(_HISTORY_BUFFER_STATISTICS)}}} are')


def _numeric_scalar(dtype: np.dtype, *args: Any) -> np.generic:
    """Stand-in for ``numpy._core.multiarray.scalar`` (numeric kinds only).

    Args:
        dtype (np.dtype): dtype of the scalar; must be bool, int or float.
        *args: The raw bytes of the value, as pickled by numpy.

    Returns:
        np.generic: The numpy scalar.

    Raises:
        UntrustedCheckpointError: For any other dtype (e.g. object).
    """
    if not isinstance(dtype, np.dtype) or dtype.kind not in 'biuf':
        raise UntrustedCheckpointError(
            f'numpy scalar of dtype {dtype!r} is not allowed; only '
            'bool/int/float scalars are')
    return scalar(dtype, *args)


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allowlist used by :func:`load_checkpoint_file`.

    Returns:
        list: Entries for :func:`torch.serialization.safe_globals`: either a
        class/function (matched by its own qualified name) or a
        ``(replacement, 'pickled.name')`` pair. See the module docstring for
        why each entry is there.
    """
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        # dtype classes (``numpy.dtypes.Float64DType`` ... in numpy 2).
        type(np.dtype(np.float64)),
        type(np.dtype(np.float32)),
        type(np.dtype(np.int64)),
        # protocol 2 writes ``__builtin__``, protocol >= 3 ``builtins``.
        (_history_buffer_statistic, '__builtin__.getattr'),
        (_history_buffer_statistic, 'builtins.getattr'),
    ]
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        entries.append((_reconstruct, f'{module}._reconstruct'))
        entries.append((_numeric_scalar, f'{module}.scalar'))
    return entries


def _resolve_trusted(trusted: Optional[bool]) -> bool:
    """Turn ``trusted`` (or, when None, the environment variable) into bool."""
    if trusted is not None:
        return bool(trusted)
    value = os.environ.get(TRUST_ENV_VAR, '').strip().lower()
    if value in _TRUE_VALUES:
        return True
    if value in _FALSE_VALUES:
        return False
    raise ValueError(f'{TRUST_ENV_VAR}={os.environ[TRUST_ENV_VAR]!r} is not '
                     f'understood; use 1 to trust checkpoints or 0/unset')


def _short_reason(error: Exception) -> str:
    """One line saying which global a ``weights_only`` load refused.

    ``torch.load`` re-raises the unpickler's error with a long generic text
    (``raise ... from None``); the specific message is kept as
    ``__context__``.
    """
    inner = error.__context__ if isinstance(error.__context__,
                                            Exception) else error
    text = str(inner).split(' Please use `torch.serialization')[0]
    reason = ' '.join(
        line.strip() for line in text.splitlines() if line.strip())
    return reason.rstrip('.') or repr(inner)


def _is_refusal(error: pickle.UnpicklingError) -> bool:
    """Whether a ``weights_only`` error is a refused global (vs. garbage)."""
    inner = error.__context__ if isinstance(error.__context__,
                                            Exception) else error
    text = str(inner)
    return isinstance(inner, UntrustedCheckpointError) or (
        'global' in text.lower() or 'not allowed' in text)


def _unreadable(name: str, error: BaseException) -> UnreadableCheckpointError:
    """The one-line error for an empty / truncated / foreign file."""
    detail = str(error).strip().splitlines()
    detail = detail[0] if detail else ''
    return UnreadableCheckpointError(
        f'cannot read checkpoint {name}: it is truncated, corrupt or not a '
        f'PyTorch checkpoint ({type(error).__name__}'
        f'{": " + detail[:120] if detail else ""})')


def _torch_load(source: Union[str, IO[bytes]],
                name: str,
                map_location: MapLocation = None,
                trusted: Optional[bool] = None,
                extra_safe_globals: Sequence[Any] = ()) -> Any:
    """``torch.load`` of a file or buffer, weights-only unless trusted.

    Every failure becomes a one-line :class:`CheckpointError` naming
    ``name``: :class:`UntrustedCheckpointError` for a refused global,
    :class:`UnreadableCheckpointError` for anything that is not a complete
    PyTorch checkpoint (empty, text, truncated zip or pickle).
    """
    if _resolve_trusted(trusted):
        print_log(
            f'Loading {name} with weights_only=False because it is '
            f'trusted ({TRUST_ENV_VAR} or trusted=True): unpickling can '
            'execute arbitrary code.',
            logger='current',
            level=logging.WARNING)
        try:
            return torch.load(
                source, map_location=map_location, weights_only=False)
        except (EOFError, LookupError, RuntimeError, ValueError,
                pickle.UnpicklingError) as error:
            raise _unreadable(name, error) from error
    try:
        allowed = checkpoint_safe_globals() + list(extra_safe_globals)
        with torch.serialization.safe_globals(allowed):
            return torch.load(
                source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not _is_refusal(error):
            raise _unreadable(name, error) from error
        raise UntrustedCheckpointError(
            f'Refused to unpickle checkpoint {name}: '
            f'{_short_reason(error)}. mmmrhd loads checkpoints with '
            'weights_only=True and only allows tensors and plain data. If '
            f'you trust this file, set {TRUST_ENV_VAR}=1 (or pass '
            'trusted=True to mmmrhd.utils.load_checkpoint_file) to load it '
            'with weights_only=False, which can execute arbitrary '
            'code.') from error
    except (EOFError, LookupError, RuntimeError, ValueError) as error:
        # empty file: EOFError; text: KeyError/IndexError from the pickle
        # opcodes; truncated zip: RuntimeError (PytorchStreamReader).
        raise _unreadable(name, error) from error


def load_checkpoint_file(filename: Union[str, os.PathLike],
                         map_location: MapLocation = None,
                         trusted: Optional[bool] = None,
                         extra_safe_globals: Sequence[Any] = ()) -> Any:
    """Load a checkpoint file with ``weights_only=True`` and our allowlist.

    Args:
        filename (str | os.PathLike): Local path of the checkpoint; ``~`` is
            expanded.
        map_location: Same as :func:`torch.load`. Defaults to None.
        trusted (bool, optional): True loads with ``weights_only=False``
            (arbitrary code execution if the file is malicious). None reads
            the environment variable ``MMMRHD_TRUST_CHECKPOINTS``
            (``1``/``true`` to trust). Defaults to None.
        extra_safe_globals (Sequence): Further plain-data classes to allow
            for this call only, e.g. ``argparse.Namespace`` for the official
            Moment-DETR-family checkpoints, whose ``opt`` entry is a pickled
            namespace of plain values. Defaults to ().

    Returns:
        Any: The unpickled checkpoint, usually a dict of tensors and plain
        data.

    Raises:
        MissingCheckpointError: If ``filename`` is not a file (also a
            :class:`FileNotFoundError`).
        UnreadableCheckpointError: If the file is empty, truncated or not a
            PyTorch checkpoint.
        UntrustedCheckpointError: If the file references a global outside
            :func:`checkpoint_safe_globals` (the message names it and explains
            how to opt in).
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise MissingCheckpointError(
            f'checkpoint {filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise UnreadableCheckpointError(
            f'cannot read checkpoint {filename}: the file is empty')
    return _torch_load(filename, filename, map_location, trusted,
                       extra_safe_globals)


def load_from_local(filename: str, map_location: MapLocation = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local paths (prefix ``''``).

    Args:
        filename (str): Local checkpoint path.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: See :func:`load_checkpoint_file`.
    """
    return load_checkpoint_file(filename, map_location=map_location)


# The scheme loaders live in checkpoint_schemes.py (they import the loading
# above); re-exported here, where they have always been importable from.
from .checkpoint_schemes import (  # noqa: E402
    cached_file_name, load_from_ceph, load_from_http, load_from_mmcls,
    load_from_openmmlab, load_from_pavi, load_from_torchvision,
    register_checkpoint_loaders)

register_checkpoint_loaders()
