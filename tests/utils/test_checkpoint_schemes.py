# Copyright (c) mmmrhd contributors. All rights reserved.
"""Every MMEngine checkpoint scheme loads weights-only; download cache;
one-line errors for unreadable files (mmmrhd.utils.checkpoint)."""
import functools
import http.server
import io
import json
import os
import os.path as osp
import sys
import threading
import types

import pytest
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import mmmrhd  # noqa: F401  (registers the safe loaders)
from mmmrhd.utils import checkpoint as safe
from mmmrhd.utils.checkpoint import (MissingCheckpointError,
                                     UnreadableCheckpointError,
                                     UntrustedCheckpointError,
                                     cached_file_name, load_checkpoint_file)
from mmmrhd.utils.errors import CheckpointError


class _RunsShell:
    """A pickle payload that would create ``marker`` when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _evil(path, marker) -> None:
    torch.save({'state_dict': {}, 'meta': _RunsShell(str(marker))}, path)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server over ``tmp_path/served``; isolated caches."""
    served = tmp_path / 'served'
    for sub in ('v1', 'v2'):
        (served / sub).mkdir(parents=True)
    torch.save({'state_dict': {'w': torch.arange(3.)}}, served / 'good.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}}, served / 'v1/model.pth')
    torch.save({'state_dict': {'w': torch.zeros(2)}}, served / 'v2/model.pth')
    marker = tmp_path / 'pwned'
    _evil(served / 'evil.pth', marker)
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    monkeypatch.delenv(safe.TRUST_ENV_VAR, raising=False)
    base = f'http://127.0.0.1:{httpd.server_address[1]}'
    yield types.SimpleNamespace(
        base=base,
        marker=marker,
        cache=tmp_path / 'torch_home' / 'hub' / 'checkpoints',
        mmengine_home=tmp_path / 'mmengine_home')
    httpd.shutdown()
    httpd.server_close()
    assert not marker.exists()


def test_every_scheme_has_a_safe_loader():
    schemes = CheckpointLoader._schemes
    for prefix in ('', 'http://', 'https://', 'open-mmlab://', 'openmmlab://',
                   'torchvision://', 'modelzoo://', 'mmcls://', 'pavi://',
                   r'(\S+\:)?s3://', r'(\S+\:)?petrel://'):
        assert prefix in schemes
    for prefix, loader in schemes.items():
        assert loader.__module__ in ('mmmrhd.utils.checkpoint',
                                     'mmmrhd.utils.checkpoint_schemes'), prefix
    # MMEngine's own loaders call these module functions directly
    for name in ('load_from_http', 'load_from_local', 'load_from_openmmlab'):
        assert getattr(mmengine_checkpoint, name) is getattr(safe, name)


def test_refused_download_is_not_cached(server):
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(f'{server.base}/evil.pth')
    assert not server.cache.exists() or os.listdir(server.cache) == []
    # a good file is cached under the hash of its URL, and read from there
    url = f'{server.base}/good.pth'
    assert torch.equal(
        CheckpointLoader.load_checkpoint(url)['state_dict']['w'],
        torch.arange(3.))
    assert os.listdir(server.cache) == [cached_file_name(url)]


def test_cache_is_keyed_by_the_full_url(server):
    first = CheckpointLoader.load_checkpoint(f'{server.base}/v1/model.pth')
    second = CheckpointLoader.load_checkpoint(f'{server.base}/v2/model.pth')
    assert torch.equal(first['state_dict']['w'], torch.ones(1))
    assert torch.equal(second['state_dict']['w'], torch.zeros(2))
    assert len(os.listdir(server.cache)) == 2
    assert cached_file_name('http://a/x/m.pth') != cached_file_name(
        'http://a/y/m.pth')
    assert cached_file_name('http://a/x/m.pth').endswith('-m.pth')


@pytest.mark.parametrize('scheme', ['open-mmlab://', 'openmmlab://'])
def test_openmmlab_scheme_is_weights_only(server, scheme):
    home = server.mmengine_home
    home.mkdir(exist_ok=True)
    _evil(home / 'evil_local.pth', server.marker)
    (home / 'open_mmlab.json').write_text(
        json.dumps({
            'evil_url': f'{server.base}/evil.pth',
            'evil_local': 'evil_local.pth',
            'good_url': f'{server.base}/good.pth',
        }))
    # the poisoned file where torch.hub's cache (keyed by file name) would
    # have found it: MMEngine's loader ran it with weights_only=False
    server.cache.mkdir(parents=True)
    _evil(server.cache / 'evil.pth', server.marker)
    for name in ('evil_url', 'evil_local'):
        with pytest.raises(UntrustedCheckpointError, match='posix.system'):
            CheckpointLoader.load_checkpoint(f'{scheme}{name}')
    assert sorted(os.listdir(server.cache)) == ['evil.pth']
    good = CheckpointLoader.load_checkpoint(f'{scheme}good_url')
    assert torch.equal(good['state_dict']['w'], torch.arange(3.))
    with pytest.raises(CheckpointError, match='not a known model name'):
        CheckpointLoader.load_checkpoint(f'{scheme}no_such_model')


@pytest.mark.parametrize('scheme,getter', [
    ('torchvision://', 'get_torchvision_models'),
    ('modelzoo://', 'get_torchvision_models'),
    ('mmcls://', 'get_mmcls_models'),
])
def test_url_schemes_are_weights_only(server, monkeypatch, scheme, getter):
    urls = {
        'evil': f'{server.base}/evil.pth',
        'good': f'{server.base}/good.pth'
    }
    monkeypatch.setattr(mmengine_checkpoint, getter, lambda: urls)
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(f'{scheme}evil')
    good = CheckpointLoader.load_checkpoint(f'{scheme}good')
    if scheme == 'mmcls://':  # keeps only 'backbone.*', renamed
        assert good['state_dict'] == {}
    else:
        assert torch.equal(good['state_dict']['w'], torch.arange(3.))


def test_s3_and_pavi_schemes_are_weights_only(tmp_path, monkeypatch):
    marker = tmp_path / 'pwned'
    buffer = io.BytesIO()
    torch.save({'meta': _RunsShell(str(marker))}, buffer)
    payload = buffer.getvalue()

    class Backend:

        def get(self, filename):
            return payload

    monkeypatch.setattr(mmengine_checkpoint, 'get_file_backend',
                        lambda *args, **kwargs: Backend())
    with pytest.raises(UntrustedCheckpointError, match='s3://b/evil.pth'):
        CheckpointLoader.load_checkpoint('s3://b/evil.pth')

    class Model:
        name = 'evil.pth'

        def download(self, path):
            with open(path, 'wb') as f:
                f.write(payload)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=lambda name: Model())
    monkeypatch.setitem(sys.modules, 'pavi', pavi)
    with pytest.raises(UntrustedCheckpointError, match='pavi://x/evil'):
        CheckpointLoader.load_checkpoint('pavi://x/evil')
    assert not marker.exists()


def _unreadable_files(tmp_path):
    torch.save({'state_dict': {'w': torch.ones(100)}}, tmp_path / 'good.pth')
    raw = (tmp_path / 'good.pth').read_bytes()
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'text.pth').write_text('hello world\n')
    (tmp_path / 'letter.pth').write_text('e')
    (tmp_path / 'truncated.pth').write_bytes(raw[:len(raw) // 2])
    torch.save({'a': 1}, tmp_path / 'legacy.pth',
               _use_new_zipfile_serialization=False)
    legacy = (tmp_path / 'legacy.pth').read_bytes()
    (tmp_path / 'legacy_truncated.pth').write_bytes(legacy[:-5])
    return ['empty.pth', 'text.pth', 'letter.pth', 'truncated.pth',
            'legacy_truncated.pth']


@pytest.mark.parametrize('trusted', [False, True])
def test_unreadable_files_give_one_line_errors(tmp_path, trusted):
    for name in _unreadable_files(tmp_path):
        path = str(tmp_path / name)
        with pytest.raises(UnreadableCheckpointError) as err:
            load_checkpoint_file(path, trusted=trusted)
        message = str(err.value)
        assert path in message and '\n' not in message, message
        assert isinstance(err.value, CheckpointError)
    with pytest.raises(MissingCheckpointError, match='nope.pth') as err:
        load_checkpoint_file(tmp_path / 'nope.pth')
    assert isinstance(err.value, FileNotFoundError)
    assert isinstance(err.value, CheckpointError)


def test_untrusted_error_is_a_checkpoint_error(tmp_path):
    _evil(tmp_path / 'evil.pth', tmp_path / 'pwned')
    with pytest.raises(CheckpointError):
        load_checkpoint_file(tmp_path / 'evil.pth')
    assert not osp.exists(tmp_path / 'pwned')
