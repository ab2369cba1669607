# Copyright (c) mmmrhd contributors. All rights reserved.
"""Annotation and feature files on any MMEngine storage backend.

Every file the datasets, the loading transforms, the data check and the
inferencer read goes through :mod:`mmengine.fileio` with the config's
``backend_args`` (as ``LoadImageFromFile(backend_args=...)`` in MMDetection),
so a dataset on another storage (Petrel/S3, HTTP, LMDB, a user's own
backend registered with :func:`mmengine.fileio.register_backend`) works by
config.

Local files keep a fast path: when the backend is MMEngine's
:class:`~mmengine.fileio.LocalBackend` (no ``backend_args`` and no ``://``
prefix, or ``backend='local'``), callers open the file directly, exactly
as before (no copy of the bytes).

Errors name the file: a file the backend does not have is a
:class:`DataFileNotFoundError`, any other failure of the backend a
:class:`DataOSError` with the backend's message.
"""
import os.path as osp
import posixpath
from typing import Optional

from mmengine.fileio import LocalBackend, get_file_backend

from .data_errors import DataFileNotFoundError, DataOSError

__all__ = [
    'file_backend', 'is_local', 'file_exists', 'read_bytes', 'join_path'
]


def file_backend(path: str, backend_args: Optional[dict] = None):
    """The MMEngine storage backend that serves ``path``.

    Args:
        path (str): A file path or URI (``s3://...``).
        backend_args (dict, optional): MMEngine ``backend_args``; its
            ``backend`` name wins over the path's prefix.

    Returns:
        BaseStorageBackend: One instance per (prefix, arguments), reused.
    """
    return get_file_backend(
        path, backend_args=backend_args, enable_singleton=True)


def is_local(path: str, backend_args: Optional[dict] = None) -> bool:
    """Whether ``path`` is a plain local file (the fast path)."""
    if not backend_args and '://' not in path:
        return True  # what get_file_backend would say, without its cost
    return isinstance(file_backend(path, backend_args), LocalBackend)


def file_exists(path: str,
                backend_args: Optional[dict] = None) -> Optional[bool]:
    """Whether the backend has the file ``path``.

    Returns:
        bool | None: None if the backend cannot tell (it implements neither
        ``isfile`` nor ``exists``, which MMEngine does not require); the
        read then says whether the file is there.

    Raises:
        DataOSError: Naming ``path`` when the backend fails to answer.
    """
    backend = file_backend(path, backend_args)
    for method in ('isfile', 'exists'):
        check = getattr(backend, method, None)
        if check is None:
            continue
        try:
            return bool(check(path))
        except NotImplementedError:
            continue
        except Exception as exc:  # the backend's own errors, any type
            raise DataOSError(
                f'cannot check {path} on storage backend '
                f'{type(backend).__name__}: {type(exc).__name__}: '
                f'{exc}') from exc
    return None


def read_bytes(path: str, backend_args: Optional[dict], what: str) -> bytes:
    """Read a whole file through its storage backend.

    Args:
        path (str): The file.
        backend_args (dict, optional): MMEngine ``backend_args``.
        what (str): Description for messages (``'video feature'``).

    Returns:
        bytes: The content.

    Raises:
        DataFileNotFoundError: ``'<what> file not found: <path>'`` when the
            backend raises ``FileNotFoundError``.
        DataOSError: Naming ``path`` and the backend's error otherwise.
    """
    backend = file_backend(path, backend_args)
    try:
        return backend.get(path)
    except FileNotFoundError:
        raise DataFileNotFoundError(f'{what} file not found: {path}') from None
    except Exception as exc:  # the backend's own errors, any type
        raise DataOSError(
            f'cannot read {what} file {path} from storage backend '
            f'{type(backend).__name__}: {type(exc).__name__}: {exc}') from exc


def join_path(root: str, path: str,
              backend_args: Optional[dict] = None) -> str:
    """Join ``path`` to the directory ``root`` as its backend does.

    :func:`mmengine.fileio.join_path`, with a fallback for backends without
    ``join_path`` (MMEngine only requires ``get`` / ``get_text``): ``/``
    separators, as in every URI.
    """
    if is_local(root, backend_args):
        return osp.join(root, path)
    joiner = getattr(file_backend(root, backend_args), 'join_path', None)
    try:
        return joiner(root, path) if joiner else posixpath.join(root, path)
    except NotImplementedError:
        return posixpath.join(root, path)
