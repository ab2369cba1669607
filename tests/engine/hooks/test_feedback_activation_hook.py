# Copyright (c) mmmrhd contributors. All rights reserved.
"""FeedbackActivationHook: epoch-driven switch, val follows, test on."""
import os

import pytest
import torch
import torch.distributed as dist
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmmrhd.engine.hooks import FeedbackActivationHook, find_feedback_switches
from mmmrhd.models.feedback import FeedbackHead
from mmmrhd.registry import METRICS, MODELS
from mmmrhd.utils.errors import ConfigError


@MODELS.register_module(force=True)
class _FeedbackToyModel(BaseModel):
    """Records the switch seen by every forward call, per mode."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.feedback_active = True
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append((mode, self.feedback_active))
        y = self.linear(torch.stack(inputs)).sum()
        if mode == 'loss':
            return dict(loss=y**2)
        return [dict(v=float(y))]


@MODELS.register_module(force=True)
class _NestedFeedbackModel(BaseModel):
    """A user model with a FeedbackHead two levels down, no switch of its
    own; records the head's switch per forward call."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.blocks = torch.nn.ModuleDict(
            dict(fuse=torch.nn.Sequential(torch.nn.Identity(),
                                          FeedbackHead(manner='mr2hd'))))
        self.seen = []

    @property
    def head(self):
        return self.blocks['fuse'][1]

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append((mode, self.head.feedback_active))
        y = self.linear(torch.stack(inputs)).sum()
        if mode == 'loss':
            return dict(loss=y**2)
        return [dict(v=float(y))]


@MODELS.register_module(force=True)
class _NoFeedbackModel(_FeedbackToyModel):

    def __init__(self):
        super().__init__()
        del self.feedback_active


@METRICS.register_module(force=True)
class _NullMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(0.0)

    def compute_metrics(self, results):
        return dict(null=0.0)


class _Data(Dataset):

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return dict(inputs=torch.ones(2), data_samples=0)


def _loader():
    return dict(dataset=_Data(), batch_size=2,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate'))


def _runner(tmp_path, start_epoch, max_epochs=4,
            model='_FeedbackToyModel'):
    return Runner(
        model=dict(type=model),
        work_dir=str(tmp_path),
        experiment_name=f'fb_{start_epoch}_{model}',
        train_dataloader=_loader(), val_dataloader=_loader(),
        test_dataloader=_loader(),
        val_evaluator=dict(type='_NullMetric'),
        test_evaluator=dict(type='_NullMetric'),
        val_cfg=dict(), test_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        custom_hooks=[dict(type='FeedbackActivationHook',
                           start_epoch=start_epoch)],
        default_hooks=dict(checkpoint=None),
        default_scope='mmmrhd')


def _run(tmp_path, start_epoch, max_epochs=4, model='_FeedbackToyModel'):
    runner = _runner(tmp_path, start_epoch, max_epochs, model)
    runner.train()
    train_seen = list(runner.model.seen)
    for module in find_feedback_switches(runner.model):
        module.feedback_active = False
    runner.model.seen.clear()
    runner.test()
    return train_seen, list(runner.model.seen)


def test_switches_at_start_epoch(tmp_path):
    seen, test_seen = _run(tmp_path, start_epoch=2)
    train = [on for mode, on in seen if mode == 'loss']
    val = [on for mode, on in seen if mode == 'predict']
    # one train step and one val step per epoch; official: on iff epoch >= 2
    assert train == [False, False, True, True]
    assert val == [False, False, True, True]
    assert test_seen and all(on for _, on in test_seen)


def test_switches_feedback_head_nested_in_user_model(tmp_path):
    seen, test_seen = _run(tmp_path, start_epoch=1, max_epochs=3,
                           model='_NestedFeedbackModel')
    train = [on for mode, on in seen if mode == 'loss']
    val = [on for mode, on in seen if mode == 'predict']
    assert train == [False, True, True]
    assert val == [False, True, True]
    assert test_seen and all(on for _, on in test_seen)


def test_default_is_half_of_max_epochs(tmp_path):
    seen, _ = _run(tmp_path, start_epoch=None, max_epochs=6)
    train = [on for mode, on in seen if mode == 'loss']
    assert train == [False] * 3 + [True] * 3


def test_bad_arguments_and_model_without_switch(tmp_path):
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match='start_epoch'):
            FeedbackActivationHook(start_epoch=bad)
    hook = FeedbackActivationHook(start_epoch=0)

    class _R:
        model = torch.nn.Linear(1, 1)
        epoch = 0
        max_epochs = 2

    with pytest.raises(ConfigError) as err:
        hook.before_train_epoch(_R())
    assert str(err.value) == (
        'FeedbackActivationHook: the model (Linear) contains no module with '
        'a "feedback_active" switch (a FeedbackHead); remove the hook from '
        'custom_hooks or give the model a FeedbackHead')
    # a run fails before its first iteration, not silently
    runner = _runner(tmp_path, 0, model='_NoFeedbackModel')
    with pytest.raises(ConfigError, match=r'model \(_NoFeedbackModel\)'):
        runner.train()
    assert runner.model.seen == []


class _Hooked:
    """The parts of a runner the hook reads."""

    def __init__(self, model, epoch=0, max_epochs=4):
        self.model, self.epoch, self.max_epochs = model, epoch, max_epochs


def _head_model():
    return torch.nn.Sequential(torch.nn.Linear(2, 2),
                               torch.nn.Sequential(FeedbackHead()))


def test_finds_heads_inside_ema_wrapper():
    ema = ExponentialMovingAverage(_head_model())
    switches = find_feedback_switches(ema)
    assert switches == [ema.module[1][0]]
    hook = FeedbackActivationHook(start_epoch=2)
    hook.before_train_epoch(_Hooked(ema, epoch=1))
    assert ema.module[1][0].feedback_active is False
    hook.before_train_epoch(_Hooked(ema, epoch=2))
    assert ema.module[1][0].feedback_active is True


def test_finds_heads_inside_ddp(tmp_path):
    from mmmrhd.models.wrappers import MRHDDistributedDataParallel
    assert not dist.is_initialized()
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    store = dist.FileStore(str(tmp_path / 'store'), 1)
    dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    try:
        inner = _head_model()
        ddp = MRHDDistributedDataParallel(module=inner)
        hook = FeedbackActivationHook(start_epoch=None)  # max_epochs // 2
        hook.before_train_epoch(_Hooked(ddp, epoch=1, max_epochs=4))
        assert inner[1][0].feedback_active is False
        hook.before_test_epoch(_Hooked(ddp))
        assert inner[1][0].feedback_active is True
        assert find_feedback_switches(ddp) == [inner[1][0]]
    finally:
        dist.destroy_process_group()
