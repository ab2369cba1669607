# Copyright (c) mmmrhd contributors. All rights reserved.
"""Crash-safe file replacement, and the fault points that test it.

A file is written under a temporary name in the same directory, flushed to
disk (``fsync``) and renamed over its final name (:func:`os.replace` is
atomic on POSIX and Windows); the directory is then synced so that the
rename itself survives a power loss. A reader therefore sees either the old
complete file or the new complete file, never a partial one.

:func:`fault_point` lets tests kill the process (``SIGKILL``, like
``kill -9``) at a named moment of a checkpoint save. It is inert unless the
environment variable ``MMMRHD_CKPT_FAULT`` is set, e.g.
``MMMRHD_CKPT_FAULT=save:tmp_written@2`` (the second time that point is
reached). It is meant for tests only.
"""
import os
import os.path as osp
import signal
from collections import Counter
from typing import Union

__all__ = [
    'FAULT_ENV_VAR', 'fault_point', 'fsync_file', 'fsync_dir',
    'replace_atomically', 'write_text_atomic', 'temp_name'
]

FAULT_ENV_VAR = 'MMMRHD_CKPT_FAULT'
_fault_hits: Counter = Counter()

PathLike = Union[str, os.PathLike]


def fault_point(name: str, path: PathLike = None) -> None:
    """Kill this process with SIGKILL here if ``MMMRHD_CKPT_FAULT`` says so.

    Args:
        name (str): The point, e.g. ``'save:tmp_written'``.
        path (str, optional): The file being written. For the point
            ``'save:tmp_truncated'`` it is cut to half its size first, which
            leaves what a kill in the middle of writing leaves.
    """
    spec = os.environ.get(FAULT_ENV_VAR)
    if not spec:
        return
    target, _, nth = spec.partition('@')
    if target != name:
        return
    _fault_hits[name] += 1
    if _fault_hits[name] != int(nth or 1):
        return
    if path is not None and name.endswith('truncated'):
        with open(path, 'r+b') as f:
            f.truncate(osp.getsize(path) // 2)
    os.kill(os.getpid(), signal.SIGKILL)


def temp_name(path: PathLike) -> str:
    """A hidden temporary name next to ``path`` (same file system).

    ``dir/epoch_3.pth`` -> ``dir/.epoch_3.pth.<pid>.part``: it does not end
    in ``.pth``, so checkpoint scans ignore it.
    """
    path = os.fspath(path)
    return osp.join(
        osp.dirname(path), f'.{osp.basename(path)}.{os.getpid()}.part')


def fsync_file(path: PathLike) -> None:
    """Flush the content of the file ``path`` to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: PathLike) -> None:
    """Flush a directory entry change (a rename) to disk, where possible."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(tmp_path: PathLike, path: PathLike) -> None:
    """``fsync`` ``tmp_path``, rename it to ``path``, ``fsync`` the dir."""
    fsync_file(tmp_path)
    os.replace(tmp_path, path)
    fsync_dir(osp.dirname(osp.abspath(path)))


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` so that readers never see a partial file.

    Args:
        path (str | os.PathLike): The final file.
        text (str): Its new content (UTF-8).
    """
    tmp_path = temp_name(path)
    try:
        with open(tmp_path, 'w', encoding='utf-8') as f:
            f.write(text)
        replace_atomically(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
