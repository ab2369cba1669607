# Copyright (c) mmmrhd contributors. All rights reserved.
"""RNGStateHook: bit-identical resume and validation isolation with dropout."""
import random

import numpy as np
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmmrhd  # noqa: F401  (safe checkpoint loaders)
from mmmrhd.engine.hooks import get_rng_state, set_rng_state
from mmmrhd.registry import HOOKS, METRICS, MODELS


class _Data(Dataset):

    def __init__(self, n=16, offset=0):
        g = torch.Generator().manual_seed(offset)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        # numpy / python randomness in the pipeline, as in real transforms
        noise = np.random.rand() * 1e-3 + random.random() * 1e-3
        return dict(inputs=self.x[i] + noise, data_samples=self.y[i])


@MODELS.register_module(force=True)
class _DropoutToy(BaseModel):

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.net(inputs)
        if mode == 'loss':
            return dict(loss=((out - data_samples)**2).mean())
        # validation consumes randomness too (e.g. a stochastic metric)
        torch.rand(3)
        np.random.rand()
        return list(zip(out, data_samples))


@METRICS.register_module(force=True)
class _MSE(BaseMetric):

    def process(self, data_batch, data_samples):
        for p, t in data_samples:
            self.results.append(float(((p - t)**2).sum()))

    def compute_metrics(self, results):
        return dict(mse=float(np.mean(results)))


class _Stop(Exception):
    pass


@HOOKS.register_module(force=True)
class _StopAfter(Hook):
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            raise _Stop


def _runner(work_dir, name, rng_hook=True, val_interval=1, extra=(),
            resume=False):
    loader = dict(batch_size=4, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=True),
                  collate_fn=dict(type='default_collate'))
    hooks = ([dict(type='RNGStateHook')] if rng_hook else []) + list(extra)
    return Runner(
        model=dict(type='_DropoutToy'),
        work_dir=str(work_dir), experiment_name=name,
        train_dataloader=dict(dataset=_Data(), **loader),
        val_dataloader=dict(dataset=_Data(8, 1), **loader),
        val_evaluator=dict(type='_MSE'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=4,
                       val_interval=val_interval),
        val_cfg=dict(),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=hooks, resume=resume,
        randomness=dict(seed=7), default_scope='mmmrhd')


def _weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def _resumed_weights(tmp_path, rng_hook):
    tag = 'hook' if rng_hook else 'nohook'
    part = _runner(tmp_path, f'{tag}_p1', rng_hook,
                   extra=[dict(type='_StopAfter', epoch=2)])
    with pytest.raises(_Stop):
        part.train()
    resumed = _runner(tmp_path, f'{tag}_p2', rng_hook, resume=True)
    resumed.train()
    return _weights(resumed)


def test_resume_is_bit_identical(tmp_path):
    full = _runner(tmp_path / 'full', 'hook_full')
    full.train()
    resumed = _resumed_weights(tmp_path / 'part', rng_hook=True)
    for k, v in _weights(full).items():
        assert torch.equal(v, resumed[k]), k


def test_without_hook_resume_diverges(tmp_path):
    """The check above can fail: dropout makes a plain resume diverge."""
    full = _runner(tmp_path / 'full', 'nohook_full', rng_hook=False)
    full.train()
    resumed = _resumed_weights(tmp_path / 'part', rng_hook=False)
    assert any(not torch.equal(v, resumed[k])
               for k, v in _weights(full).items())


def test_validation_does_not_change_training(tmp_path):
    a = _runner(tmp_path / 'a', 'val_a', val_interval=1)
    a.train()
    b = _runner(tmp_path / 'b', 'val_b', val_interval=100)
    b.train()
    for k, v in _weights(a).items():
        assert torch.equal(v, _weights(b)[k]), k


def test_state_roundtrip_is_plain_data(tmp_path):
    state = get_rng_state()
    path = tmp_path / 'rng.pth'
    torch.save(dict(rng_state=state), path)
    loaded = torch.load(path, weights_only=True)['rng_state']
    expected = (torch.rand(2), np.random.rand(), random.random())
    set_rng_state(loaded)
    again = (torch.rand(2), np.random.rand(), random.random())
    assert torch.equal(expected[0], again[0])
    assert expected[1:] == again[1:]
