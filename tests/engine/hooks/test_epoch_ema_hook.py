# Copyright (c) mmmrhd contributors. All rights reserved.
"""EpochEMAHook: once-per-epoch EMA with the official initialisation."""
import copy

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmmrhd.engine.hooks import EpochEMAHook
from mmmrhd.registry import MODELS


@MODELS.register_module(force=True)
class _EMAToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        y = self.linear(x).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((y - torch.stack(data_samples))**2).mean())
        return y


class _ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(3, generator=g),
                    data_samples=torch.tensor(float(i)))


class _Recorder(Hook):
    """Records the raw weights after every epoch (after the EMA update)."""
    priority = 'LOWEST'

    def __init__(self):
        self.snapshots = []

    def before_train(self, runner):
        self.snapshots.append(copy.deepcopy(runner.model.state_dict()))

    def after_train_epoch(self, runner):
        self.snapshots.append(copy.deepcopy(runner.model.state_dict()))


def _runner(tmp_path, max_epochs, recorder=None, resume=False, name='a'):
    hooks = [dict(type='EpochEMAHook', momentum=0.1)]
    if recorder is not None:
        hooks.append(recorder)
    return Runner(
        model=dict(type='_EMAToyModel'),
        work_dir=str(tmp_path),
        experiment_name=f'ema_{name}',
        train_dataloader=dict(
            dataset=_ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate'),
            batch_size=4),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        custom_hooks=hooks,
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=100)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmmrhd')


def _ema_hook(runner):
    return next(h for h in runner.hooks if isinstance(h, EpochEMAHook))


def test_ema_follows_official_recurrence(tmp_path):
    recorder = _Recorder()
    runner = _runner(tmp_path, 3, recorder)
    runner.train()
    # official ModelEma: deep copy at train start, then once per epoch
    # ema = 0.9 * ema + 0.1 * w
    snaps = recorder.snapshots
    assert len(snaps) == 4
    expected = {k: v.clone() for k, v in snaps[0].items()}
    for snap in snaps[1:]:
        for k in expected:
            expected[k] = 0.9 * expected[k] + 0.1 * snap[k]
    ema = _ema_hook(runner).ema_model.module.state_dict()
    for k, v in expected.items():
        torch.testing.assert_close(ema[k], v, atol=1e-7, rtol=1e-6)
    # ...and it is not simply the final weights
    assert not torch.allclose(ema['linear.weight'],
                              snaps[-1]['linear.weight'])
    # checkpoints hold the EMA weights as `state_dict`
    ckpt = torch.load(tmp_path / 'epoch_3.pth', weights_only=False)
    torch.testing.assert_close(ckpt['state_dict']['linear.weight'],
                               expected['linear.weight'])


def test_ema_resume_matches_uninterrupted(tmp_path):
    full = _runner(tmp_path / 'full', 3, name='full')
    full.train()
    ema_full = _ema_hook(full).ema_model.module.state_dict()

    part = _runner(tmp_path / 'part', 2, name='part')
    part.train()
    resumed = _runner(tmp_path / 'part', 3, resume=True, name='resumed')
    resumed.train()
    ema_resumed = _ema_hook(resumed).ema_model.module.state_dict()
    for k in ema_full:
        torch.testing.assert_close(ema_resumed[k], ema_full[k])


def test_invalid_momentum():
    with pytest.raises(ValueError, match='momentum'):
        EpochEMAHook(momentum=1.5)
