# Copyright (c) mmmrhd contributors. All rights reserved.
"""Reading, checking, normalising and concatenating feature arrays.

Shared by :class:`LoadVideoFeatures` and :class:`LoadTextFeatures`. Each
file is opened once (``np.load``) and closed right away; nothing is cached.
Files are read through :mod:`mmengine.fileio` with ``backend_args`` (see
:mod:`mmmrhd.datasets.storage`); local files are opened directly.
"""
import contextlib
import io
import os.path as osp
import zipfile
import zlib
from typing import (BinaryIO, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np

from mmmrhd.utils.errors import ConfigError
from ..data_errors import (DataError, DataFileNotFoundError, DataKeyError,
                           DataOSError)
from ..storage import is_local, read_bytes

__all__ = [
    'check_template', 'read_feature_array', 'open_feature_file',
    'as_feature_matrix',
    'check_feature_array', 'load_feature_array', 'WidthRecord',
    'l2_normalize', 'concat_streams'
]

_EXTENSIONS = ('.npz', '.npy')


def check_template(template: str, key: Optional[str]) -> None:
    """Check a file-name template against its array key at build time.

    ``.npz`` archives need the ``key`` of the array; ``.npy`` files hold one
    array and take no key.
    """
    if not isinstance(template, str) or not template.endswith(_EXTENSIONS):
        raise ConfigError(
            f'feature file template {template!r} must end with '
            f'one of {_EXTENSIONS}')
    if template.endswith('.npz') and key is None:
        raise ConfigError(
            f'feature file template {template!r} is an .npz '
            'archive: give the key of its array')
    if template.endswith('.npy') and key is not None:
        raise ConfigError(
            f'feature file template {template!r} is a single '
            f'.npy array: key must be None, got {key!r}')


def read_feature_array(path: str,
                       key: Optional[str],
                       what: str,
                       backend_args: Optional[dict] = None) -> np.ndarray:
    """Read one feature array as stored (no cut, no cast).

    Args:
        path (str): An ``.npz`` (read ``key``) or ``.npy`` file.
        key (str, optional): Array name inside an ``.npz`` archive.
        what (str): Description for messages (e.g. ``'video feature'``).
        backend_args (dict, optional): MMEngine storage backend arguments
            (None: by the path's prefix, a plain path is a local file).

    Returns:
        np.ndarray: The numeric ``(L, D)`` array as stored (a 1-D ``(D,)``
        array, e.g. a pooled text feature, becomes ``(1, D)``).

    Raises:
        DataError: Naming ``path``: the file is missing (also a
            ``FileNotFoundError``), cannot be read from its storage backend
            or is not a valid ``.npz`` / ``.npy`` file (also an
            ``OSError``), lacks ``key`` (also a ``KeyError``) or holds no
            numeric 2-D array.
    """
    with open_feature_file(path, backend_args, what) as f:
        array = _parse_feature_file(f, path, key, what)
    return as_feature_matrix(array, f'{what} file {path}')


@contextlib.contextmanager
def open_feature_file(path: str, backend_args: Optional[dict],
                      what: str) -> Iterator[BinaryIO]:
    """Open a feature file for ``np.load``, on any storage backend.

    A local file is opened directly (the fast path: no copy); a file on
    another backend is read whole (``mmengine.fileio``'s ``get``) into a
    :class:`io.BytesIO`.

    Args:
        path (str): The file.
        backend_args (dict, optional): MMEngine storage backend arguments.
        what (str): Description for messages (e.g. ``'video feature'``).

    Yields:
        BinaryIO: The open file, closed on exit.

    Raises:
        DataError: Naming ``path``: missing (also a ``FileNotFoundError``)
            or not readable from its backend (also an ``OSError``).
    """
    if is_local(path, backend_args):
        if not osp.isfile(path):
            raise DataFileNotFoundError(f'{what} file not found: {path}')
        # Our own file handle: np.load leaks its handle when a truncated
        # archive fails in zipfile.
        try:
            f = open(path, 'rb')
        except OSError as exc:  # e.g. no read permission
            raise DataOSError(f'cannot read {what} file {path}: '
                              f'{exc.strerror or exc}') from None
        with f:
            yield f
    else:
        with io.BytesIO(read_bytes(path, backend_args, what)) as f:
            yield f


def _parse_feature_file(f: BinaryIO, path: str, key: Optional[str],
                        what: str) -> np.ndarray:
    """``np.load`` an open binary file; every failure names ``path``."""
    kind = '.npz archive' if path.endswith('.npz') else '.npy file'
    try:
        # allow_pickle stays False: a feature file never needs pickled
        # objects, and unpickling would run code from the file.
        loaded = np.load(f)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if not path.endswith('.npz'):
                    raise DataOSError(f'{what} file {path} is an .npz '
                                      'archive, not a .npy file')
                if key not in loaded.files:
                    raise DataKeyError(
                        f'{what} file {path} has no array {key!r} '
                        f'(available: {sorted(loaded.files)})')
                return loaded[key]
        if path.endswith('.npz'):
            raise DataOSError(f'{what} file {path} is a .npy file, not '
                              'an .npz archive')
        return loaded
    except DataError:
        raise
    except ValueError as exc:
        # NumPy reads any file that is neither .npy nor zip as a pickle and
        # refuses it ("pickled data ... allow_pickle"): a garbage file.
        if 'pickle' in str(exc):
            f.seek(0)
            reason = ('holds pickled objects'
                      if f.read(6) == b'\x93NUMPY' else 'unrecognised content')
            raise DataOSError(f'{what} file {path} is not a valid {kind} '
                              f'({reason})') from None
        raise DataOSError(f'cannot read {what} file {path}: not a valid '
                          f'{kind} ({exc})') from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataOSError(f'cannot read {what} file {path}: not a valid '
                          f'{kind}, truncated or corrupt ({exc})') from None


def as_feature_matrix(array, name: str) -> np.ndarray:
    """Check that ``array`` is a numeric ``(L, D)`` array (``(D,)`` -> 1 row).

    Args:
        array: What was read.
        name (str): What and where, for messages (e.g. ``'video feature
            file x.npz'``).

    Returns:
        np.ndarray: The array as stored, 2-D.

    Raises:
        DataError: Naming ``name``: not numeric or not 1-/2-D.
    """
    if not isinstance(array, np.ndarray) or not (
            np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f'{name}: expected a numeric array, got dtype '
                        f'{getattr(array, "dtype", type(array))}')
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise DataError(f'{name}: expected a (length, dim) array, got shape '
                        f'{array.shape}')
    return array


def check_feature_array(array: np.ndarray, max_len: Optional[int],
                        name: str) -> np.ndarray:
    """Check one feature array, keep ``max_len`` rows, cast to float32.

    The part of :func:`load_feature_array` after reading the file, also for
    features that never were a file (the inferencer).

    Args:
        array (np.ndarray): ``(L, D)`` features, or ``(D,)`` for one row.
        max_len (int, optional): Keep at most this many rows (official
            ``[:max_v_l]`` / ``[:max_q_l]``). None keeps all.
        name (str): What and where, for messages (e.g. ``'video feature
            file x.npz'``).

    Returns:
        np.ndarray: float32 ``(min(L, max_len), D)``, non-empty, finite
        (rows cut by ``max_len`` are not checked: they are never used).

    Raises:
        DataError: Naming ``name``: not a numeric 1-/2-D array, no rows or
            columns, or NaN/inf values.
    """
    array = as_feature_matrix(array, name)[:max_len].astype(np.float32)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f'{name} is empty (shape {array.shape})')
    if not np.isfinite(array).all():
        rows = np.unique(np.nonzero(~np.isfinite(array))[0])
        raise DataError(f'{name} has NaN/inf values in rows '
                        f'{rows[:10].tolist()}')
    return array


def load_feature_array(path: str,
                       key: Optional[str],
                       max_len: Optional[int],
                       what: str,
                       backend_args: Optional[dict] = None) -> np.ndarray:
    """Read one feature array, keep its first ``max_len`` rows, cast to f32.

    :func:`read_feature_array` then :func:`check_feature_array`.

    Args:
        path (str): An ``.npz`` (read ``key``) or ``.npy`` file.
        key (str, optional): Array name inside an ``.npz`` archive.
        max_len (int, optional): Keep at most this many rows (official
            ``[:max_v_l]`` / ``[:max_q_l]``). None keeps all.
        what (str): Description for messages (e.g. ``'video feature'``).
        backend_args (dict, optional): MMEngine storage backend arguments.

    Returns:
        np.ndarray: float32 ``(L, D)`` (a 1-D ``(D,)`` array, e.g. a pooled
        text feature, becomes ``(1, D)``), finite, with ``L >= 1``.
    """
    return check_feature_array(
        read_feature_array(path, key, what, backend_args), max_len,
        f'{what} file {path}')


class WidthRecord:
    """Remembers the width of the first file of each stream.

    A transform keeps one to check, at load time and at no extra cost, that
    every file of a stream (files of one directory + file-name template)
    has the same number of channels, so that a single file of the wrong
    width is named instead of failing later in the collate function.
    """

    def __init__(self) -> None:
        self._first: Dict[str, Tuple[int, str]] = {}

    def check(self, group: str, path: str, width: int, what: str) -> None:
        """Record ``width`` for ``group`` or compare it with the first one.

        Raises:
            DataError: Naming both files when the widths differ.
        """
        first = self._first.setdefault(group, (width, path))
        if first[0] != width:
            raise DataError(
                f'{what} file {path} has width {width}, but {first[1]} '
                f'(loaded earlier from the same stream {group}) has width '
                f'{first[0]}; every file of a stream must have the same '
                'width (run tools/misc/check_dataset.py to list all such '
                'files)')


def l2_normalize(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Official ``l2_normalize_np_array``: ``x / (||x||_2 + eps)`` per row.

    Args:
        x (np.ndarray): ``(L, D)`` features.
        eps (float): Added to the norm (official 1e-5,
            ``utils/basic_utils.py`` L84-86).

    Returns:
        np.ndarray: ``(L, D)``, same dtype.
    """
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + eps)


def concat_streams(streams: Sequence[np.ndarray],
                   names: Sequence[str],
                   tolerance: Optional[int],
                   what: str) -> np.ndarray:
    """Cut streams to the shortest one and concatenate their channels.

    The official loaders cut silently ("some features are slightly longer
    than the others"). Here a length gap larger than ``tolerance`` rows is
    an error naming both streams, since it usually means mismatched files.

    Args:
        streams (Sequence[np.ndarray]): ``(L_i, D_i)`` arrays.
        names (Sequence[str]): One name (file path) per stream.
        tolerance (int, optional): Largest allowed ``max(L_i) - min(L_i)``.
            None allows any gap (the official behaviour).
        what (str): Description for messages.

    Returns:
        np.ndarray: ``(min L_i, sum D_i)``.
    """
    if len(streams) == 1:
        return streams[0]
    lengths: List[int] = [len(s) for s in streams]
    shortest = min(lengths)
    longest = int(np.argmax(lengths))
    if tolerance is not None and lengths[longest] - shortest > tolerance:
        i = lengths.index(shortest)
        raise DataError(
            f'{what} streams differ in length by more than {tolerance}: '
            f'{names[longest]} has {lengths[longest]} rows, {names[i]} has '
            f'{shortest}')
    return np.concatenate([s[:shortest] for s in streams], axis=1)
