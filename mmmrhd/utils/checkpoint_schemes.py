# Copyright (c) mmmrhd contributors. All rights reserved.
"""Weights-only loaders for every MMEngine checkpoint scheme.

The loaders of ``http(s)://`` and the hub schemes (``open-mmlab://``,
``openmmlab://``, ``torchvision://``, ``modelzoo://``, ``mmcls://``,
``pavi://``, ``s3://``, ``petrel://``) and :func:`register_checkpoint_loaders`,
which installs them (and the local loader) in MMEngine's
:class:`~mmengine.runner.checkpoint.CheckpointLoader`. Every one ends in the
weights-only loading of :mod:`mmmrhd.utils.checkpoint` (see its docstring for
why and what is allowed). Downloads are cached under a hash of the full URL,
and only after they loaded, so a refused file never lands in the cache.
"""
import hashlib
import io
import logging
import os
import os.path as osp
import tempfile
from typing import Any, Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import (MapLocation, UnreadableCheckpointError, _torch_load,
                         load_checkpoint_file, load_from_local)
from .errors import CheckpointError

__all__ = [
    'cached_file_name', 'load_from_http', 'load_from_openmmlab',
    'load_from_torchvision', 'load_from_mmcls', 'load_from_pavi',
    'load_from_ceph', 'register_checkpoint_loaders'
]

def cached_file_name(url: str) -> str:
    """The cache file name of ``url``: a hash of the full URL + its name.

    Two URLs that end in the same file name (``.../v1/model.pth`` and
    ``.../v2/model.pth``) get different cache files.

    Args:
        url (str): The URL.

    Returns:
        str: ``<first 16 hex digits of sha256(url)>-<file name>``.
    """
    digest = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    name = osp.basename(urlparse(url).path)
    return f'{digest}-{name}' if name else digest


def _download_and_load(url: str, model_dir: str, map_location: MapLocation,
                       progress: bool) -> Any:
    """Load ``url`` from the cache, or download, check, load and cache it.

    The download goes to a temporary file in ``model_dir``; only a file that
    loaded (weights-only, or trusted) is moved to its cache name, so a
    refused or broken file is never cached.
    """
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, cached_file_name(url))
    if osp.exists(cached_file):
        return load_checkpoint_file(cached_file, map_location=map_location)
    print_log(f'Downloading {url} to {cached_file}', logger='current')
    fd, tmp_file = tempfile.mkstemp(
        prefix='.' + osp.basename(cached_file) + '.', dir=model_dir)
    os.close(fd)
    try:
        torch.hub.download_url_to_file(url, tmp_file, progress=progress)
        checkpoint = _torch_load_file_as(tmp_file, url, map_location)
        os.replace(tmp_file, cached_file)
    finally:
        if osp.exists(tmp_file):
            os.remove(tmp_file)
    return checkpoint


def _torch_load_file_as(path: str, name: str,
                        map_location: MapLocation) -> Any:
    """:func:`load_checkpoint_file` of ``path`` whose errors name ``name``."""
    if osp.getsize(path) == 0:
        raise UnreadableCheckpointError(
            f'cannot read checkpoint {name}: the file is empty')
    return _torch_load(path, name, map_location)


def load_from_http(filename: str,
                   map_location: MapLocation = None,
                   model_dir: Optional[str] = None,
                   progress: bool = False) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for ``http://`` and ``https://``.

    The cache (``model_dir``, by default ``<torch hub dir>/checkpoints`` as
    in MMEngine) is keyed by a hash of the full URL
    (:func:`cached_file_name`), and a downloaded file is cached only after
    it loaded. Rank 0 downloads first, the other ranks wait and then read the
    cached file; everything is loaded weights-only (see
    :func:`load_checkpoint_file`).

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
        checkpoint = _download_and_load(filename, model_dir, map_location,
                                        progress)
    if world_size > 1:
        barrier()
        if rank > 0:
            checkpoint = _download_and_load(filename, model_dir,
                                            map_location, progress)
    return checkpoint


def _unknown_model(scheme: str, name: str, known: dict) -> CheckpointError:
    return CheckpointError(
        f'{scheme}{name} is not a known model name ({len(known)} are; see '
        'the json files in mmengine/hub)')


def load_from_openmmlab(filename: str,
                        map_location: MapLocation = None) -> Any:
    """``open-mmlab://`` / ``openmmlab://``: MMEngine's name resolution.

    A name maps (``mmengine/hub/openmmlab.json`` or
    ``$MMENGINE_HOME/open_mmlab.json``) to a URL, loaded by
    :func:`load_from_http`, or to a file under the MMEngine home, loaded by
    :func:`load_checkpoint_file`: weights-only in both cases.
    """
    prefix = 'open-mmlab://' if filename.startswith(
        'open-mmlab://') else 'openmmlab://'
    model_name = filename[len(prefix):]
    deprecated = mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(
            f'{prefix}{model_name} is deprecated in favor of '
            f'{prefix}{deprecated[model_name]}',
            logger='current',
            level=logging.WARNING)
        model_name = deprecated[model_name]
    model_urls = mmengine_checkpoint.get_external_models()
    if model_name not in model_urls:
        raise _unknown_model(prefix, model_name, model_urls)
    model_url = model_urls[model_name]
    if model_url.startswith(('http://', 'https://')):
        return load_from_http(model_url, map_location=map_location)
    return load_checkpoint_file(
        osp.join(mmengine_checkpoint._get_mmengine_home(), model_url),
        map_location=map_location)


def load_from_torchvision(filename: str,
                          map_location: MapLocation = None) -> Any:
    """``torchvision://`` / ``modelzoo://``: torchvision's URL, weights-only.
    """
    prefix = 'modelzoo://' if filename.startswith(
        'modelzoo://') else 'torchvision://'
    model_name = filename[len(prefix):]
    model_urls = mmengine_checkpoint.get_torchvision_models()
    if model_name not in model_urls:
        raise _unknown_model(prefix, model_name, model_urls)
    return load_from_http(model_urls[model_name], map_location=map_location)


def load_from_mmcls(filename: str, map_location: MapLocation = None) -> Any:
    """``mmcls://``: MMPretrain's URL, weights-only, keys converted."""
    model_name = filename[len('mmcls://'):]
    model_urls = mmengine_checkpoint.get_mmcls_models()
    if model_name not in model_urls:
        raise _unknown_model('mmcls://', model_name, model_urls)
    checkpoint = load_from_http(
        model_urls[model_name], map_location=map_location)
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


def load_from_pavi(filename: str, map_location: MapLocation = None) -> Any:
    """``pavi://``: download with pavi's modelcloud, load weights-only."""
    try:
        from pavi import modelcloud
    except ImportError as error:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.'
        ) from error
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp_dir:
        downloaded_file = osp.join(tmp_dir, model.name)
        model.download(downloaded_file)
        return _torch_load_file_as(downloaded_file, filename, map_location)


def load_from_ceph(filename: str,
                   map_location: MapLocation = None,
                   backend: str = 'petrel') -> Any:
    """``s3://`` / ``petrel://``: read through the file backend, weights-only.
    """
    file_backend = mmengine_checkpoint.get_file_backend(
        filename, backend_args={'backend': backend})
    with io.BytesIO(file_backend.get(filename)) as buffer:
        return _torch_load(buffer, filename, map_location)


# prefixes -> loader; the prefixes are MMEngine 0.10.7's own
# (mmengine/runner/checkpoint.py, ``@CheckpointLoader.register_scheme``).
_SAFE_SCHEMES = (
    ('', load_from_local),
    (('http://', 'https://'), load_from_http),
    ('pavi://', load_from_pavi),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), load_from_ceph),
    (('modelzoo://', 'torchvision://'), load_from_torchvision),
    (('open-mmlab://', 'openmmlab://'), load_from_openmmlab),
    ('mmcls://', load_from_mmcls),
)


def register_checkpoint_loaders() -> None:
    """Make every MMEngine checkpoint scheme load weights-only.

    Called on ``import mmmrhd``; calling it again is harmless. Each of
    MMEngine's schemes (local, ``http(s)://``, ``open-mmlab://``,
    ``openmmlab://``, ``torchvision://``, ``modelzoo://``, ``mmcls://``,
    ``pavi://``, ``s3://``, ``petrel://``) gets a loader of this module, and
    the same-named functions of :mod:`mmengine.runner.checkpoint` are
    replaced too, so MMEngine code that calls them directly (e.g. its
    ``load_from_openmmlab`` calling ``load_from_http``) is covered as well.
    """
    for prefixes, loader in _SAFE_SCHEMES:
        CheckpointLoader.register_scheme(
            prefixes=prefixes, loader=loader, force=True)
        setattr(mmengine_checkpoint, loader.__name__, loader)
