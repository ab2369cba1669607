# Copyright (c) mmmrhd contributors. All rights reserved.
"""Safe checkpoint loading (mmmrhd.utils.checkpoint) with a real Runner."""
import argparse
import functools
import http.server
import os
import os.path as osp
import pickle
import threading
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner, load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import mmmrhd  # noqa: F401  (registers the safe loaders)
from mmmrhd.testing.toy_regression import (ToyRegressionDataset,
                                          ToyRegressionMetric,
                                          ToyRegressionModel)
from mmmrhd.registry import DATASETS, HOOKS, METRICS, MODELS
from mmmrhd.utils import (TRUST_ENV_VAR, UntrustedCheckpointError,
                          load_checkpoint_file)
from mmmrhd.utils.checkpoint import (cached_file_name, load_from_http,
                                     load_from_local)


CkptToyDataset = ToyRegressionDataset
CkptToyModel = ToyRegressionModel
DATASETS.register_module(
    name='CkptToyDataset', module=ToyRegressionDataset, force=True)
MODELS.register_module(
    name='CkptToyModel', module=ToyRegressionModel, force=True)
METRICS.register_module(
    name='CkptToyMetric', module=ToyRegressionMetric, force=True)


class _Interrupted(Exception):
    """Simulates a killed job."""


@HOOKS.register_module(force=True)
class CkptInterruptHook(Hook):
    """Raise after ``stop_epoch`` training epochs, after the checkpoint."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) has saved

    def __init__(self, stop_epoch: int) -> None:
        self.stop_epoch = stop_epoch

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.stop_epoch:
            raise _Interrupted


def _runner(work_dir,
            name: str,
            max_epochs: int = 4,
            ema: bool = True,
            extra_hooks=(),
            save_best: bool = True,
            **kwargs) -> Runner:
    loader = dict(
        batch_size=4,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'))
    custom_hooks = [dict(type='EMAHook', momentum=0.2)] if ema else []
    return Runner(
        model=dict(type='CkptToyModel'),
        work_dir=str(work_dir),
        experiment_name=name,
        default_scope='mmmrhd',
        train_dataloader=dict(dataset=dict(type='CkptToyDataset'), **loader),
        val_dataloader=dict(
            dataset=dict(type='CkptToyDataset', num_samples=8, offset=1),
            **loader),
        val_evaluator=dict(type='CkptToyMetric'),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        param_scheduler=dict(
            type='MultiStepLR', milestones=[3], gamma=0.1, by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        val_cfg=dict(),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=dict(
                type='CheckpointHook',
                interval=1,
                save_best='mse' if save_best else None,
                rule='less')),
        custom_hooks=custom_hooks + list(extra_hooks),
        randomness=dict(seed=2018, deterministic=False),
        **kwargs)


def _ema_state(runner: Runner) -> dict:
    hooks = [h for h in runner.hooks if type(h).__name__ == 'EMAHook']
    return hooks[0].ema_model.state_dict()


def _assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """An uninterrupted 4-epoch run (with EMAHook) and its work_dir."""
    work_dir = tmp_path_factory.mktemp('full')
    runner = _runner(work_dir, 'full')
    runner.train()
    return runner, work_dir


def test_safe_loaders_are_registered():
    assert CheckpointLoader._get_checkpoint_loader('/a/b.pth') \
        is load_from_local
    assert CheckpointLoader._get_checkpoint_loader('b.pth') is load_from_local
    for url in ('http://x.org/a.pth', 'https://x.org/a.pth'):
        assert CheckpointLoader._get_checkpoint_loader(url) is load_from_http


def test_mmengine_checkpoint_loads_weights_only(trained, monkeypatch):
    runner, work_dir = trained
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == [
        'best_mse_epoch_4.pth', 'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth',
        'epoch_4.pth'
    ]
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy)
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_4.pth'))
    assert calls == [True]
    assert ckpt['meta']['epoch'] == 4 and ckpt['meta']['iter'] == 16
    log_scalars = ckpt['message_hub']['log_scalars']
    assert isinstance(log_scalars['train/loss'], HistoryBuffer)
    assert log_scalars['train/loss']._log_history.shape == (16, )
    best = ckpt['message_hub']['runtime_info']['best_score']
    assert isinstance(best, np.float32)
    assert best == pytest.approx(runner.message_hub.get_scalar(
        'val/mse').current())
    assert 'ema_state_dict' in ckpt


def test_resume_reproduces_uninterrupted_run(trained, tmp_path):
    full, _ = trained
    interrupted = _runner(
        tmp_path,
        'part1',
        extra_hooks=[dict(type='CkptInterruptHook', stop_epoch=2)])
    with pytest.raises(_Interrupted):
        interrupted.train()
    assert (tmp_path / 'last_checkpoint').read_text().endswith('epoch_2.pth')

    resumed = _runner(tmp_path, 'part2', resume=True)
    resumed.train()
    assert resumed.epoch == 4 and resumed.iter == 16
    _assert_same_tensors(full.model.state_dict(), resumed.model.state_dict())
    _assert_same_tensors(_ema_state(full), _ema_state(resumed))
    # optimizer moments, lr schedule and the logged validation metric
    full_opt = full.optim_wrapper.state_dict()
    res_opt = resumed.optim_wrapper.state_dict()
    for pid, state in full_opt['state'].items():
        _assert_same_tensors(state, res_opt['state'][pid])
    assert full_opt['param_groups'] == res_opt['param_groups']
    assert res_opt['param_groups'][0]['lr'] == pytest.approx(0.005)
    assert resumed.message_hub.get_scalar('val/mse').current() == \
        full.message_hub.get_scalar('val/mse').current()
    assert resumed.message_hub.get_info('best_score') == \
        full.message_hub.get_info('best_score')


def test_load_from_plain_state_dict(trained, tmp_path):
    full, _ = trained
    state_dict = OrderedDict(
        (k, v.clone()) for k, v in full.model.state_dict().items())
    bare = tmp_path / 'bare_state_dict.pth'
    torch.save(state_dict, bare)
    wrapped = tmp_path / 'third_party.pth'
    torch.save({'state_dict': state_dict, 'meta': {'epoch': 7}}, wrapped)

    model = CkptToyModel()
    load_checkpoint(model, str(bare), map_location='cpu')
    _assert_same_tensors(model.state_dict(), state_dict)

    runner = _runner(
        tmp_path / 'wd',
        'load_from',
        ema=False,
        save_best=False,  # CheckpointHook needs before_train for save_best
        load_from=str(wrapped))
    metrics = runner.val()
    _assert_same_tensors(runner.model.state_dict(), state_dict)
    val_set = CkptToyDataset(num_samples=8, offset=1)
    with torch.no_grad():
        expected = ((model.net(val_set.x) - val_set.y)**2).mean().item()
    assert metrics['mse'] == pytest.approx(expected, rel=1e-6)


class _RunsShell:
    """A pickle payload that would run a shell command when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _RunsExec:
    """A payload through ``builtins.exec`` (module not blocked by torch)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").close()', ))


class _GetattrOnOther:
    """Asks the ``getattr`` stand-in for something else than statistics."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.parametrize('payload,reason', [
    (_RunsShell, 'posix.system'),
    (_RunsExec, 'exec'),
    (lambda marker: _GetattrOnOther(), "getattr(<class 'mmengine.logging"),
])
def test_malicious_pickle_is_refused(tmp_path, payload, reason):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload(marker)}, path)
    with pytest.raises(UntrustedCheckpointError) as err:
        load_checkpoint(CkptToyModel(), str(path))
    # callers that catch pickle.UnpicklingError keep working
    assert isinstance(err.value, pickle.UnpicklingError)
    message = str(err.value)
    assert str(path) in message and reason in message
    assert f'{TRUST_ENV_VAR}=1' in message and '\n' not in message
    assert not osp.exists(marker)


def test_malicious_resume_is_refused(tmp_path):
    marker = str(tmp_path / 'pwned')
    torch.save({'meta': {'epoch': 1, 'iter': 4}, 'x': _RunsShell(marker)},
               tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    runner = _runner(tmp_path, 'evil_resume', ema=False, resume=True)
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        runner.train()
    assert not osp.exists(marker)


def test_trusted_opt_in(tmp_path, monkeypatch):
    path = tmp_path / 'legacy.ckpt'
    # official Moment-DETR-family checkpoints pickle their argparse options
    torch.save({'model': {'w': torch.ones(2)}, 'opt': argparse.Namespace(
        lr=1e-4)}, path)
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    with pytest.raises(UntrustedCheckpointError, match='argparse.Namespace'):
        load_checkpoint_file(path)
    assert load_checkpoint_file(path, trusted=True)['opt'].lr == 1e-4
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    assert load_checkpoint_file(path)['opt'].lr == 1e-4
    # an explicit trusted=False wins over the environment
    with pytest.raises(UntrustedCheckpointError):
        load_checkpoint_file(path, trusted=False)
    monkeypatch.setenv(TRUST_ENV_VAR, 'maybe')
    with pytest.raises(ValueError, match=TRUST_ENV_VAR):
        load_checkpoint_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(tmp_path / 'nope.pth')


def test_numpy1_module_names(tmp_path):
    """Pickles written under numpy 1.x say ``numpy.core.multiarray``."""
    path = tmp_path / 'np1.pth'
    obj = {'buf': HistoryBuffer([1.5, 2.5], [1, 1]), 'eta': np.float64(3.0)}
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    raw = path.read_bytes()
    assert raw.count(b'numpy._core.multiarray') == 2
    path.write_bytes(
        raw.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    loaded = load_checkpoint_file(path)
    assert loaded['buf'].mean() == 2.0 and loaded['eta'] == 3.0


def test_object_numpy_data_is_refused(tmp_path):
    path = tmp_path / 'obj.pth'
    torch.save({'a': np.array([{'k': 1}], dtype=object)}, path)
    with pytest.raises(UntrustedCheckpointError, match='ObjectDType'):
        load_checkpoint_file(path)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args) -> None:
        pass


def test_http_loader(tmp_path, monkeypatch):
    served = tmp_path / 'served'
    served.mkdir()
    torch.save({'state_dict': {'w': torch.arange(3.)}}, served / 'good.pth')
    torch.save({'meta': _RunsShell(str(tmp_path / 'pwned'))},
               served / 'evil.pth')
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    base = f'http://127.0.0.1:{server.server_address[1]}'
    try:
        ckpt = CheckpointLoader.load_checkpoint(f'{base}/good.pth')
        assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))
        assert os.listdir(tmp_path / 'torch_home/hub/checkpoints') == [
            cached_file_name(f'{base}/good.pth')
        ]
        with pytest.raises(UntrustedCheckpointError, match='posix.system'):
            CheckpointLoader.load_checkpoint(f'{base}/evil.pth')
    finally:
        server.shutdown()
        server.server_close()
    assert not osp.exists(tmp_path / 'pwned')
