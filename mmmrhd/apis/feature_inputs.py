# Copyright (c) mmmrhd contributors. All rights reserved.
"""Video and query inputs of :class:`~mmmrhd.apis.MRHDInferencer`.

Turns what a user passes (a video file, ``.npz``/``.npy`` feature files,
arrays, query strings) into the raw per-stream features of the extractor
interface (stream name -> float32 ``(L, D)``, as stored in the released
``.npz`` files), with a small LRU cache so that many queries on one video
cost one extraction.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, List, Mapping, Optional

import numpy as np

from mmmrhd.datasets.transforms.feature_io import (check_feature_array,
                                                   load_feature_array)

__all__ = [
    'FEATURE_EXTENSIONS', 'LRUCache', 'file_key', 'is_feature_file',
    'read_stream_features'
]

FEATURE_EXTENSIONS = ('.npz', '.npy')


class LRUCache:
    """A tiny least-recently-used cache (``maxsize`` 0 disables it).

    Args:
        maxsize (int): Entries kept.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 0:
            raise ValueError(f'cache size must be >= 0, got {maxsize}')
        self.maxsize = maxsize
        self._data: 'OrderedDict[Hashable, Any]' = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: Optional[Hashable],
                       compute: Callable[[], Any]) -> Any:
        """Return the cached value of ``key`` or compute and store it.

        A ``None`` key is never cached.
        """
        if key is not None and key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = compute()
        if key is not None and self.maxsize > 0:
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        """Drop every entry."""
        self._data.clear()


def file_key(path: str) -> tuple:
    """Cache key of a file: real path, size and modification time.

    A file rewritten in place gets a new key, so stale features are never
    served.
    """
    stat = os.stat(path)
    return (osp.realpath(path), stat.st_size, stat.st_mtime_ns)


def is_feature_file(path: str) -> bool:
    """Whether ``path`` names a feature file rather than a video."""
    return path.lower().endswith(FEATURE_EXTENSIONS)


def read_stream_features(source: Any, names: List[str],
                         key: Optional[str]) -> Dict[str, np.ndarray]:
    """Raw features per stream from arrays or feature files.

    Accepted ``source``:

    * a dict ``{stream name: array | .npz/.npy path}`` with every stream of
      ``names`` (``.npz`` files are read at ``key``, official
      ``'features'``);
    * one ``.npz`` archive holding an array per stream name (e.g.
      ``np.savez(f, slowfast=..., clip=...)``), or, for a one-stream model,
      an ``.npz``/``.npy`` file or array of that stream.

    Args:
        source: See above.
        names (list[str]): The model's video streams, in column order.
        key (str, optional): Array name inside one-stream ``.npz`` files.

    Returns:
        dict[str, np.ndarray]: float32 ``(L_i, D_i)`` per name, unnormalised.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not osp.isfile(path):
            raise FileNotFoundError(f'video feature file not found: {path}')
        if path.endswith('.npz'):
            with np.load(path) as archive:
                files = set(archive.files)
                if set(names) <= files:
                    return {
                        n: check_feature_array(
                            archive[n], None,
                            f'video feature {n!r} of {path}')
                        for n in names
                    }
            if len(names) == 1 and key in files:
                return {
                    names[0]:
                    load_feature_array(path, key, None, 'video feature')
                }
            raise KeyError(
                f'video feature file {path} holds {sorted(files)}; expected '
                f'one array per stream {names}' +
                (f' or {key!r}' if len(names) == 1 else ''))
        source = {names[0]: path} if len(names) == 1 else None
        if source is None:
            raise ValueError(f'{path}: one .npy array cannot hold the '
                             f'{len(names)} streams {names}; pass a dict '
                             '{stream: file} or an .npz with one array per '
                             'stream')
    if isinstance(source, np.ndarray):
        if len(names) != 1:
            raise ValueError(f'one array cannot hold the {len(names)} '
                             f'streams {names}; pass a dict {{stream: '
                             'array}}')
        source = {names[0]: source}
    if not isinstance(source, Mapping):
        raise TypeError('video features must be a dict {stream: array | '
                        f'file}}, an .npz/.npy path or an array, got '
                        f'{type(source).__name__}')
    missing = [n for n in names if n not in source]
    extra = [n for n in source if n not in names]
    if missing or extra:
        raise KeyError(f'video features have streams {list(source)}; the '
                       f'model expects {names} (missing {missing}, unknown '
                       f'{extra})')
    feats = {}
    for name in names:
        value = source[name]
        if isinstance(value, (str, os.PathLike)):
            value = os.fspath(value)
            file_key_ = key if value.endswith('.npz') else None
            feats[name] = load_feature_array(value, file_key_, None,
                                             'video feature')
        else:
            feats[name] = check_feature_array(
                np.asarray(value), None, f'video feature {name!r}')
    return feats
