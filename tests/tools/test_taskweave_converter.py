# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave converter specifics (EMA weights, CLI options, errors); the
checks of every converter are in ``test_official_converters.py``."""
import argparse
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from mmmrhd.registry import MODELS
from mmmrhd.testing import (distinct_value_state_dict,
                            import_taskweave_converter, load_fixture,
                            qvhl_projections)
from mmmrhd.utils import register_all_modules

conv = import_taskweave_converter()


@pytest.fixture(scope='module')
def official_sd(fixtures_dir):
    """Official keys and shapes of the fixture table, distinct values."""
    fx = load_fixture(osp.join(fixtures_dir, 'taskweave_hd2mr_epoch150.pth'))
    return distinct_value_state_dict(fx['portable_init'])


def _model(official_compat=True):
    register_all_modules()
    return MODELS.build(
        dict(
            type='TaskWeave',
            official_compat=official_compat,
            **qvhl_projections()))


def test_prefix_unknown_key_and_width_errors(official_sd):
    prefixed = OrderedDict(('module.' + k, v) for k, v in official_sd.items())
    assert list(conv.convert_taskweave_official(prefixed)) == list(
        conv.convert_taskweave_official(official_sd))
    with pytest.raises(KeyError, match="unknown official key 'foo.bar'"):
        conv.convert_taskweave_official(
            dict(official_sd, **{'foo.bar': torch.zeros(1)}))
    with pytest.raises(ValueError) as err:
        conv.convert_taskweave_official(
            official_sd,
            video_streams=[
                dict(name='slowfast', dim=2048),
                dict(name='tef', dim=2)
            ])
    assert (
        'video input has 2818 columns (video_proj.layers.0.norm.weight) '
        'but the declared streams sum to 2050 (slowfast 2048 + tef 2)') in str(
            err.value)


def test_select_official_state_dict():
    a, b = {'x': torch.zeros(1)}, {'x': torch.ones(1)}
    assert conv.select_official_state_dict(dict(model=a,
                                                state_dict_ema=b)) is a
    assert conv.select_official_state_dict(
        dict(model=a, state_dict_ema=b), use_ema=True) is b
    assert conv.select_official_state_dict(a) is a
    with pytest.raises(KeyError, match="no 'state_dict_ema'"):
        conv.select_official_state_dict(dict(model=a), use_ema=True)
    with pytest.raises(KeyError, match="no 'model' entry"):
        conv.select_official_state_dict(dict(optimizer={}, epoch=3))


def test_cli_writes_weights_only_checkpoint(official_sd, tmp_path):
    ema = OrderedDict((k, v + 0.5) for k, v in official_sd.items())
    src, dst = tmp_path / 'model_best.ckpt', tmp_path / 'tw.pth'
    # official checkpoints pickle the argparse options
    torch.save(
        dict(
            model=official_sd,
            state_dict_ema=ema,
            epoch=7,
            opt=argparse.Namespace(seed=1004)), src)
    conv.main([str(src), str(dst), '--use-ema'])
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['source_entry'] == 'state_dict_ema'
    assert ckpt['meta']['epoch'] == 7
    assert ckpt['meta']['video_streams'][0] == dict(name='slowfast', dim=2304)
    assert torch.all(ckpt['state_dict']['joint_loss.hd_log_var'] == 0.5)
    _model().load_state_dict(ckpt['state_dict'], strict=True)


def test_cli_stream_option_and_errors(official_sd, tmp_path):
    src = tmp_path / 'raw.pth'
    torch.save(official_sd, src)
    dst = tmp_path / 'out.pth'
    conv.main([
        str(src),
        str(dst), '--video-streams', 'i3d:2816,tef:2', '--drop-unused'
    ])
    ckpt = torch.load(dst, weights_only=True)
    names = bytes(ckpt['state_dict']['video_proj.stream_names'].tolist())
    assert names.decode() == 'i3d,tef'
    assert ckpt['meta']['dropped_unused_text_pos_embed'] is True
    with pytest.raises(SystemExit):
        conv.main([str(src), str(dst), '--video-streams', 'i3d=2816'])
    with pytest.raises(FileNotFoundError, match='not found'):
        conv.main([str(tmp_path / 'missing.ckpt'), str(dst)])


class _Payload:
    """Unpickling this would run a shell command."""

    def __reduce__(self):
        import os
        return (os.system, ('touch pwned',))


def test_cli_refuses_code_in_checkpoint(official_sd, tmp_path, monkeypatch):
    from mmmrhd.utils import UntrustedCheckpointError
    monkeypatch.delenv('MMMRHD_TRUST_CHECKPOINTS', raising=False)
    monkeypatch.chdir(tmp_path)
    src = tmp_path / 'evil.ckpt'
    torch.save(dict(model=official_sd, opt=_Payload()), src)
    with pytest.raises(UntrustedCheckpointError, match='evil.ckpt'):
        conv.main([str(src), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'pwned').exists()
