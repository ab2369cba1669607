# Copyright (c) mmmrhd contributors. All rights reserved.
"""Reading, checking, normalising and concatenating feature arrays.

Shared by :class:`LoadVideoFeatures` and :class:`LoadTextFeatures`. Each
file is opened once (``np.load``) and closed right away; nothing is cached.
"""
import os.path as osp
import zipfile
from typing import List, Optional, Sequence

import numpy as np

__all__ = [
    'check_template', 'load_feature_array', 'check_feature_array',
    'l2_normalize', 'concat_streams'
]

_EXTENSIONS = ('.npz', '.npy')


def check_template(template: str, key: Optional[str]) -> None:
    """Check a file-name template against its array key at build time.

    ``.npz`` archives need the ``key`` of the array; ``.npy`` files hold one
    array and take no key.
    """
    if not isinstance(template, str) or not template.endswith(_EXTENSIONS):
        raise ValueError(f'feature file template {template!r} must end with '
                         f'one of {_EXTENSIONS}')
    if template.endswith('.npz') and key is None:
        raise ValueError(f'feature file template {template!r} is an .npz '
                         'archive: give the key of its array')
    if template.endswith('.npy') and key is not None:
        raise ValueError(f'feature file template {template!r} is a single '
                         f'.npy array: key must be None, got {key!r}')


def load_feature_array(path: str, key: Optional[str],
                       max_len: Optional[int], what: str) -> np.ndarray:
    """Load one feature array, keep its first ``max_len`` rows, cast to f32.

    Args:
        path (str): An ``.npz`` (read ``key``) or ``.npy`` file.
        key (str, optional): Array name inside an ``.npz`` archive.
        max_len (int, optional): Keep at most this many rows (official
            ``[:max_v_l]`` / ``[:max_q_l]``). None keeps all.
        what (str): Description for messages (e.g. ``'video feature'``).

    Returns:
        np.ndarray: float32 ``(L, D)`` (a 1-D ``(D,)`` array, e.g. a pooled
        text feature, becomes ``(1, D)``), finite, with ``L >= 1``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file not found: {path}')
    try:
        if path.endswith('.npz'):
            with np.load(path) as archive:
                if key not in archive.files:
                    raise KeyError(f'{what} file {path} has no array {key!r} '
                                   f'(available: {sorted(archive.files)})')
                array = archive[key]
        else:
            array = np.load(path)
    except KeyError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise OSError(f'cannot read {what} file {path}: {exc}') from None
    return check_feature_array(array, max_len, f'{what} file {path}')


def check_feature_array(array: np.ndarray, max_len: Optional[int],
                        name: str) -> np.ndarray:
    """Check one in-memory feature array, keep ``max_len`` rows, cast f32.

    The part of :func:`load_feature_array` after reading the file; the
    inferencer calls it on features that never were a file, so both paths
    give the same float32 array.

    Args:
        array (np.ndarray): ``(L, D)`` features, or ``(D,)`` for one row.
        max_len (int, optional): Keep at most this many rows. None keeps all.
        name (str): What and where, for messages (e.g. ``'video feature
            file x.npz'``).

    Returns:
        np.ndarray: float32 ``(L, D)``, finite, with ``L >= 1``.
    """
    if not isinstance(array, np.ndarray) or not (
            np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f'{name}: expected a numeric array, got '
                         f'dtype {getattr(array, "dtype", type(array))}')
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise ValueError(f'{name}: expected a (length, dim) '
                         f'array, got shape {array.shape}')
    array = array[:max_len].astype(np.float32)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f'{name} is empty (shape {array.shape})')
    if not np.isfinite(array).all():
        rows = np.unique(np.nonzero(~np.isfinite(array))[0])
        raise ValueError(f'{name} has NaN/inf values in rows '
                         f'{rows[:10].tolist()}')
    return array


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
        raise ValueError(
            f'{what} streams differ in length by more than {tolerance}: '
            f'{names[longest]} has {lengths[longest]} rows, {names[i]} has '
            f'{shortest}')
    return np.concatenate([s[:shortest] for s in streams], axis=1)
