# Copyright (c) mmmrhd contributors. All rights reserved.
"""Strict checkpoint loading: runner (load_from / resume) and init_cfg."""
import pytest
import torch
from mmengine.model import BaseModel, BaseModule
from mmengine.registry import DefaultScope
from torch import nn

from mmmrhd.engine.runner import (MRHDRunner, default_strict_load,
                                  load_checked, state_dict_mismatch)
from mmmrhd.engine.runner import strict_load
from mmmrhd.registry import MODELS
from mmmrhd.utils.errors import CheckpointError


class _Net(BaseModule):

    def __init__(self, width: int = 3, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(width, 2)
        self.bn = nn.BatchNorm1d(2)


@MODELS.register_module(force=True)
class StrictToyModel(BaseModel):

    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.net = _Net(width)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.net.fc(inputs)


def _state(width: int = 3, **extra) -> dict:
    state = {k: v.clone() for k, v in _Net(width).state_dict().items()}
    state.update(extra)
    return state


def test_state_dict_mismatch_kinds():
    net = _Net()
    assert not state_dict_mismatch(net, _state())
    # BatchNorm's counter may be missing (MMEngine's convention)
    state = _state()
    del state['bn.num_batches_tracked']
    assert not state_dict_mismatch(net, state)
    state = _state(4, extra=torch.ones(1))
    del state['bn.bias']
    mismatch = state_dict_mismatch(net, state)
    assert mismatch.missing == ['bn.bias']
    assert mismatch.unexpected == ['extra']
    assert mismatch.shapes == [('fc.weight', (2, 4), (2, 3))]
    # fc.bias, bn.weight, bn.running_mean/var, bn.num_batches_tracked
    assert mismatch.matched == 5
    # revise_keys apply to the checkpoint keys first
    prefixed = {f'module.{k}': v for k, v in _state().items()}
    assert state_dict_mismatch(net, prefixed, [(r'^module\.', '')]).matched


def test_strict_error_names_keys_and_opt_out():
    net = _Net()
    before = net.fc.weight.clone()
    state = _state(4, **{f'head.layer{i}.weight': torch.ones(1)
                         for i in range(12)})
    with pytest.raises(CheckpointError) as err:
        load_checked(net, {'state_dict': state}, 'other.pth', strict=True)
    message = str(err.value)
    assert '\n' not in message
    assert 'other.pth' in message and '_Net' in message
    assert '12 unexpected key(s) [head.layer0.weight' in message
    assert '... (7 more)' in message
    assert 'fc.weight: checkpoint [2, 4] vs model [2, 3]' in message
    assert '--cfg-options strict_load=False' in message
    assert torch.equal(net.fc.weight, before)  # nothing was loaded


def test_partial_loading_when_not_strict(monkeypatch):
    logged = []
    monkeypatch.setattr(strict_load, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    net = _Net()
    state = _state(4, extra=torch.ones(1))
    load_checked(net, state, 'other.pth', strict=False)
    assert torch.equal(net.fc.bias, state['fc.bias'])
    assert not torch.equal(net.fc.weight[:, :3], state['fc.weight'][:, :3])
    out, = logged
    assert 'Partial loading of other.pth into _Net' in out
    assert '6 weights loaded; 1 unexpected key(s) [extra]' in out
    # the default comes from the context (the runner's strict_load)
    with default_strict_load(False):
        load_checked(_Net(), state, 'other.pth')
    with pytest.raises(CheckpointError):
        load_checked(_Net(), state, 'other.pth')


def test_nothing_matching_is_an_error_even_when_not_strict():
    with pytest.raises(CheckpointError, match='does not fit .* at all'):
        load_checked(_Net(), {'a.b': torch.ones(1)}, 'x.pth', strict=False)
    with pytest.raises(CheckpointError, match='holds no state dict'):
        load_checked(_Net(), {'state_dict': [1, 2]}, 'x.pth')


def test_pretrained_init_cfg_is_strict(tmp_path):
    good, bad = tmp_path / 'good.pth', tmp_path / 'bad.pth'
    torch.save({'state_dict': _state()}, good)
    torch.save({'state_dict': _state(4)}, bad)
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        net = _Net(init_cfg=dict(type='Pretrained', checkpoint=str(good)))
        net.init_weights()
        assert torch.equal(net.fc.weight, _state_of(good)['fc.weight'])
        net = _Net(init_cfg=dict(type='Pretrained', checkpoint=str(bad)))
        with pytest.raises(CheckpointError, match='strict=False in this'):
            net.init_weights()
        net = _Net(
            init_cfg=dict(
                type='Pretrained', checkpoint=str(bad), strict=False))
        net.init_weights()
        assert torch.equal(net.fc.bias, _state_of(bad)['fc.bias'])


def _state_of(path):
    return torch.load(path)['state_dict']


def _runner(tmp_path, name, load_from, **cfg) -> MRHDRunner:
    return MRHDRunner(
        model=dict(type='StrictToyModel'),
        work_dir=str(tmp_path / name),
        experiment_name=name,
        default_scope='mmmrhd',
        load_from=str(load_from),
        cfg=dict(cfg))


def test_runner_load_from_is_strict_unless_opted_out(tmp_path):
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': {f'net.{k}': v
                               for k, v in _state(4).items()}}, bad)
    runner = _runner(tmp_path, 'strict_default', bad)
    with pytest.raises(CheckpointError, match='net.fc.weight: checkpoint'):
        runner.load_or_resume()
    runner = _runner(tmp_path, 'strict_off', bad, strict_load=False)
    runner.load_or_resume()
    assert torch.equal(runner.model.net.fc.bias, _state_of(bad)['net.fc.bias'])
