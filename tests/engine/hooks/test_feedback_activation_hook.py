# Copyright (c) mmmrhd contributors. All rights reserved.
"""FeedbackActivationHook: epoch-driven switch, val follows, test on."""
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmmrhd.engine.hooks import FeedbackActivationHook
from mmmrhd.registry import METRICS, MODELS


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


def _run(tmp_path, start_epoch, max_epochs=4):
    runner = Runner(
        model=dict(type='_FeedbackToyModel'),
        work_dir=str(tmp_path),
        experiment_name=f'fb_{start_epoch}',
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
    runner.train()
    train_seen = list(runner.model.seen)
    runner.model.feedback_active = False
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


def test_default_is_half_of_max_epochs(tmp_path):
    seen, _ = _run(tmp_path, start_epoch=None, max_epochs=6)
    train = [on for mode, on in seen if mode == 'loss']
    assert train == [False] * 3 + [True] * 3


def test_bad_arguments_and_model_without_switch(tmp_path):
    with pytest.raises(ValueError, match='start_epoch'):
        FeedbackActivationHook(start_epoch=-1)
    hook = FeedbackActivationHook(start_epoch=0)

    class _R:
        model = torch.nn.Linear(1, 1)
        epoch = 0
        max_epochs = 2

    with pytest.raises(AttributeError, match='feedback_active'):
        hook.before_train_epoch(_R())
