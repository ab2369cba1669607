# Copyright (c) mmmrhd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
from torch import nn

from mmmrhd.engine.hooks import AdaptiveLossScheduleHook
from mmmrhd.models.losses import AdaptiveHardSaliencyLoss


def _runner(model, epoch):
    return SimpleNamespace(model=model, epoch=epoch)


def test_factor_is_epoch_plus_one():
    model = nn.ModuleDict(
        dict(
            pos=AdaptiveHardSaliencyLoss('pos'),
            neg=AdaptiveHardSaliencyLoss('neg'),
            other=nn.Linear(2, 2)))
    hook = AdaptiveLossScheduleHook()
    for epoch, want in ((0, 1.0), (9, 10.0), (199, 200.0)):
        hook.before_train_epoch(_runner(model, epoch))
        assert model['pos'].epoch_factor == model['neg'].epoch_factor == want
    hook = AdaptiveLossScheduleHook(offset=0, scale=0.5)
    hook.before_train_epoch(_runner(model, 4))
    assert model['pos'].epoch_factor == 2.0


def test_model_without_adaptive_loss_raises():
    with pytest.raises(AttributeError, match='no module of Linear has the '
                       'attribute "epoch_factor"'):
        AdaptiveLossScheduleHook().before_train_epoch(
            _runner(nn.Linear(2, 2), 0))
