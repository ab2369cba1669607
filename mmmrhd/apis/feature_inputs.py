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
from dataclasses import dataclass
from typing import Any, Callable, Dict, Hashable, List, Mapping, Optional

import numpy as np

from mmmrhd.datasets.storage import is_local
from mmmrhd.datasets.transforms.feature_io import (check_feature_array,
                                                   load_feature_array,
                                                   open_feature_file)

__all__ = [
    'FEATURE_EXTENSIONS', 'VideoInput', 'LRUCache', 'file_key',
    'is_feature_file', 'read_stream_features', 'video_model_input',
    'text_model_input', 'parse_queries'
]

FEATURE_EXTENSIONS = ('.npz', '.npy')


@dataclass
class VideoInput:
    """One video as the inferencer holds it (cached per video).

    Attributes:
        vid (str): Video id (file name without extension by default).
        path (str, optional): The video file, when the input was one.
        feat (np.ndarray): float32 ``(L, D)`` model input before TEF: every
            stream L2-normalised, cut to the shortest, concatenated.
        duration (float): Seconds.
        raw (dict): Raw per-stream features (extractor output).
    """
    vid: str
    path: Optional[str]
    feat: np.ndarray
    duration: float
    raw: Dict[str, np.ndarray]

    @property
    def num_clips(self) -> int:
        """L."""
        return int(self.feat.shape[0])


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


def file_key(path: str,
             backend_args: Optional[dict] = None) -> Optional[tuple]:
    """Cache key of a local file: real path, size and modification time.

    A file rewritten in place gets a new key, so stale features are never
    served. A file on another storage backend, or one that does not exist,
    has no key (None: not cached), since its version cannot be told.
    """
    if not is_local(path, backend_args) or not osp.isfile(path):
        return None
    stat = os.stat(path)
    return (osp.realpath(path), stat.st_size, stat.st_mtime_ns)


def is_feature_file(path: str) -> bool:
    """Whether ``path`` names a feature file rather than a video."""
    return path.lower().endswith(FEATURE_EXTENSIONS)


def read_stream_features(
        source: Any,
        names: List[str],
        key: Optional[str],
        backend_args: Optional[dict] = None) -> Dict[str, np.ndarray]:
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
        backend_args (dict, optional): MMEngine storage backend arguments
            of the files (the config's ``LoadVideoFeatures.backend_args``).

    Returns:
        dict[str, np.ndarray]: float32 ``(L_i, D_i)`` per name, unnormalised.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith('.npz'):
            with open_feature_file(path, backend_args, 'video feature') as f, \
                    np.load(f) as archive:
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
                    load_feature_array(path, key, None, 'video feature',
                                       backend_args)
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
                                             'video feature', backend_args)
        else:
            feats[name] = check_feature_array(
                np.asarray(value), None, f'video feature {name!r}')
    return feats


def video_model_input(raw: Dict[str, np.ndarray], names: List[str],
                      loader: Any, path: Optional[str] = None) -> np.ndarray:
    """Model input (before TEF) of raw stream features, by the dataset code.

    Each stream is checked and cast like a loaded file
    (:func:`check_feature_array`), L2-normalised by the config's
    ``LoadVideoFeatures.merge_stream``, and the streams are cut to the
    shortest and concatenated by its ``merge_streams``.

    Args:
        raw (dict): Stream name -> ``(L_i, D_i)`` raw features.
        names (list[str]): Streams of the model, in column order.
        loader (LoadVideoFeatures): The test pipeline's loader.
        path (str, optional): The source file, for messages.

    Returns:
        np.ndarray: float32 ``(min L_i, sum D_i)``.
    """
    missing = [n for n in names if n not in raw]
    if missing:
        raise KeyError(f'the extractor gave streams {list(raw)}, the '
                       f'model needs {names}')
    streams, where = [], []
    for name in names:
        where.append(f'video feature {name!r}' +
                     (f' of {path}' if path else ''))
        feat = check_feature_array(raw[name], None, where[-1])
        streams.append(loader.merge_stream([feat], [where[-1]]))
    return loader.merge_streams(streams, where)


def text_model_input(tokens: Any, loader: Any, name: str) -> np.ndarray:
    """Model input of one query's token features, by the dataset code.

    Args:
        tokens (np.ndarray | dict): ``(T, D)`` tokens, or the extractor's
            dict, read at ``loader.key`` (``last_hidden_state``).
        loader (LoadTextFeatures): The test pipeline's loader (``max_len``
            tokens kept, L2-normalised by its ``merge_streams``).
        name (str): For messages.

    Returns:
        np.ndarray: float32 ``(T', D)``.
    """
    if isinstance(tokens, Mapping):
        if loader.key not in tokens:
            raise KeyError(f'{name} has {sorted(tokens)}, the config '
                           f'reads {loader.key!r}')
        tokens = tokens[loader.key]
    feat = check_feature_array(np.asarray(tokens), loader.max_len, name)
    return loader.merge_streams([feat], [name])


def parse_queries(queries: Any) -> List[dict]:
    """One dict per query: ``query``, ``qid`` (default: the index), and
    ``text_feat`` for features given instead of a sentence; a dict input is
    copied with its other keys (e.g. ground truth)."""
    if isinstance(queries, (str, dict, np.ndarray)):
        queries = [queries]
    items = []
    for i, q in enumerate(queries):
        if isinstance(q, dict) and 'query' in q:
            item = dict(q)
        elif isinstance(q, str):
            item = dict(query=q)
        else:
            item = dict(query=f'query {i}', text_feat=q)
        item.setdefault('qid', i)
        items.append(item)
    if not items:
        raise ValueError('no query given')
    return items
