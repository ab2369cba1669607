# Copyright (c) mmmrhd contributors. All rights reserved.
"""Safe checkpoint loading for MMEngine 0.10.x on PyTorch >= 2.6.

**Why.** MMEngine 0.10.7 loads every local checkpoint with a bare
``torch.load(filename, map_location=...)`` (``mmengine/runner/checkpoint.py``,
``load_from_local``). Since PyTorch 2.6 that means ``weights_only=True``, which
refuses MMEngine's *own* checkpoints (their ``message_hub`` holds
:class:`mmengine.logging.HistoryBuffer` objects and numpy data), so
``resume=True`` fails. The usual workaround, ``weights_only=False``, lets any
downloaded checkpoint run arbitrary code while being unpickled.

**What.** Importing :mod:`mmmrhd` replaces MMEngine's loaders for local
paths (prefix ``''``) and ``http(s)://`` URLs with :func:`load_from_local` and
:func:`load_from_http`. Both call :func:`load_checkpoint_file`, which always
uses ``torch.load(weights_only=True)`` and, only for the duration of that call,
allows the plain-data types listed in :func:`checkpoint_safe_globals`. That
covers ``resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')``,
:func:`mmengine.runner.load_checkpoint`, converters and inference alike:
third-party state dicts load as before, MMEngine training checkpoints resume,
and a pickle that references anything else is refused with
:class:`UntrustedCheckpointError`.

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
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

__all__ = [
    'TRUST_ENV_VAR', 'UntrustedCheckpointError', 'checkpoint_safe_globals',
    'load_checkpoint_file', 'load_from_local', 'load_from_http',
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


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint references a global outside the safe allowlist."""


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
        FileNotFoundError: If ``filename`` is not a file.
        UntrustedCheckpointError: If the file references a global outside
            :func:`checkpoint_safe_globals` (the message names it and explains
            how to opt in).
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    if _resolve_trusted(trusted):
        print_log(
            f'Loading {filename} with weights_only=False because it is '
            f'trusted ({TRUST_ENV_VAR} or trusted=True): unpickling can '
            'execute arbitrary code.',
            logger='current',
            level=logging.WARNING)
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        allowed = checkpoint_safe_globals() + list(extra_safe_globals)
        with torch.serialization.safe_globals(allowed):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise UntrustedCheckpointError(
            f'Refused to unpickle checkpoint {filename}: '
            f'{_short_reason(error)}. mmmrhd loads checkpoints with '
            'weights_only=True and only allows tensors and plain data. If '
            f'you trust this file, set {TRUST_ENV_VAR}=1 (or pass '
            'trusted=True to mmmrhd.utils.load_checkpoint_file) to load it '
            'with weights_only=False, which can execute arbitrary '
            'code.') from error


def load_from_local(filename: str, map_location: MapLocation = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local paths (prefix ``''``).

    Args:
        filename (str): Local checkpoint path.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: See :func:`load_checkpoint_file`.
    """
    return load_checkpoint_file(filename, map_location=map_location)


def _download(url: str, model_dir: str, progress: bool) -> str:
    """Download ``url`` into ``model_dir`` unless it is cached there."""
    name = osp.basename(urlparse(url).path)
    if not name:
        raise ValueError(f'cannot derive a file name from the URL {url}')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, name)
    if not osp.exists(cached_file):
        print_log(f'Downloading {url} to {cached_file}', logger='current')
        torch.hub.download_url_to_file(url, cached_file, progress=progress)
    return cached_file


def load_from_http(filename: str,
                   map_location: MapLocation = None,
                   model_dir: Optional[str] = None,
                   progress: bool = False) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for ``http://`` and ``https://``.

    Rank 0 downloads first (into ``model_dir``, by default
    ``<torch hub dir>/checkpoints`` as in MMEngine), the other ranks wait and
    then read the cached file; everything is loaded by
    :func:`load_checkpoint_file`.

    Args:
        filename (str): The URL.
        map_location: Same as :func:`torch.load`.
        model_dir (str, optional): Download directory.
        progress (bool): Show a download progress bar. Defaults to False.

    Returns:
        Any: See :func:`load_checkpoint_file`.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    rank, world_size = get_dist_info()
    if rank == 0:
        cached_file = _download(filename, model_dir, progress)
    if world_size > 1:
        barrier()
        if rank > 0:
            cached_file = _download(filename, model_dir, progress)
    return load_checkpoint_file(cached_file, map_location=map_location)


def register_checkpoint_loaders() -> None:
    """Make MMEngine's ``CheckpointLoader`` use the safe loaders.

    Called on ``import mmmrhd``; calling it again is harmless. Other schemes
    (``open-mmlab://``, ``torchvision://``, ``s3://`` ...) keep MMEngine's
    loaders, which already get PyTorch's ``weights_only=True`` default.
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http, force=True)


register_checkpoint_loaders()
