# Copyright (c) mmmrhd contributors. All rights reserved.
"""An in-memory MMEngine storage backend for tests and benchmarks.

Registered with :func:`mmengine.fileio.register_backend` under a name and a
URI prefix, it serves files copied from a local directory under
``<prefix>://<name>/<relative path>``, so a dataset config with
``data_root='<prefix>://<name>'`` and ``backend_args=dict(backend=...)``
reads nothing from the local disk.
"""
import os
import os.path as osp
import posixpath
from typing import Dict, Iterable, Optional, Set, Union

from mmengine.fileio import BaseStorageBackend, register_backend

__all__ = ['MemoryBackend', 'register_memory_backend']


class MemoryBackend(BaseStorageBackend):
    """Files held in a class-level dict ``{uri: bytes}``.

    Attributes:
        files (dict): The stored files.
        broken (set): URIs whose ``get`` raises ``ConnectionError``, as a
            failing remote store would.
        reads (dict): How many times each URI was read.
    """

    files: Dict[str, bytes] = {}
    broken: Set[str] = set()
    reads: Dict[str, int] = {}

    def get(self, filepath: str) -> bytes:
        """The bytes of ``filepath``; FileNotFoundError if absent."""
        filepath = str(filepath)
        if filepath in self.broken:
            raise ConnectionError('connection reset by peer')
        if filepath not in self.files:
            raise FileNotFoundError(filepath)
        self.reads[filepath] = self.reads.get(filepath, 0) + 1
        return self.files[filepath]

    def get_text(self, filepath: str, encoding: str = 'utf-8') -> str:
        """The text of ``filepath``."""
        return self.get(filepath).decode(encoding)

    def exists(self, filepath: str) -> bool:
        """Whether ``filepath`` is stored (or is a directory prefix)."""
        filepath = str(filepath).rstrip('/')
        return filepath in self.files or any(
            f.startswith(filepath + '/') for f in self.files)

    def isfile(self, filepath: str) -> bool:
        """Whether ``filepath`` is a stored file."""
        return str(filepath) in self.files

    def join_path(self, filepath: str, *filepaths: str) -> str:
        """Join with ``/`` as in every URI."""
        return posixpath.join(str(filepath), *filepaths)

    @classmethod
    def load_dir(cls,
                 local_dir: str,
                 uri_root: str,
                 skip: Iterable[str] = ()) -> int:
        """Copy every file under ``local_dir`` to ``uri_root/<rel path>``.

        Args:
            local_dir (str): Local directory.
            uri_root (str): e.g. ``'memtest://demo'``.
            skip (Iterable[str]): Relative paths not to copy.

        Returns:
            int: Files copied.
        """
        skip = set(skip)
        count = 0
        for dirpath, _, names in os.walk(local_dir):
            for name in names:
                path = osp.join(dirpath, name)
                rel = osp.relpath(path, local_dir).replace(os.sep, '/')
                if rel in skip:
                    continue
                with open(path, 'rb') as f:
                    cls.files[posixpath.join(uri_root, rel)] = f.read()
                count += 1
        return count

    @classmethod
    def clear(cls) -> None:
        """Forget every file, broken URI and read count."""
        cls.files.clear()
        cls.broken.clear()
        cls.reads.clear()


def register_memory_backend(
        name: str = 'mmmrhd_memory',
        prefixes: Optional[Union[str, Iterable[str]]] = 'memtest'
) -> type:
    """Register :class:`MemoryBackend` (again, ``force=True``).

    Args:
        name (str): Backend name for ``backend_args=dict(backend=name)``.
        prefixes (str | Iterable[str], optional): URI prefixes it serves
            without ``backend_args``.

    Returns:
        type: :class:`MemoryBackend`.
    """
    if prefixes is not None and not isinstance(prefixes, str):
        prefixes = list(prefixes)
    register_backend(name, MemoryBackend, force=True, prefixes=prefixes)
    return MemoryBackend
