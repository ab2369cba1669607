# Copyright (c) mmmrhd contributors. All rights reserved.
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from mmmrhd.registry import MODELS
from mmmrhd.testing import (PARITY_ADAPTERS, fixture_inputs, import_converter,
                            load_fixture, rebuild_official_state_dict)
from mmmrhd.utils import register_all_modules

conv = import_converter('qd_detr_official_to_mmmrhd.py')
QVHL = dict(
    video_proj=dict(
        type='InputProjection',
        streams=[
            dict(name='slowfast', dim=2304),
            dict(name='clip', dim=512),
            dict(name='tef', dim=2)
        ]),
    text_proj=dict(
        type='InputProjection', streams=[dict(name='clip_text', dim=512)]))


@pytest.fixture(scope='module')
def fx(fixtures_dir):
    return load_fixture(osp.join(fixtures_dir, 'qddetr.pth'))


@pytest.fixture(scope='module')
def official_sd(fx):
    """Official keys and shapes of the fixture table, distinct values."""
    return OrderedDict((k, torch.full(e['shape'], float(i)))
                       for i, (k, e) in enumerate(fx['portable_init'].items()))


def _model(official_compat=True):
    register_all_modules()
    return MODELS.build(
        dict(type='QDDETR', official_compat=official_compat, **QVHL))


def test_every_official_key_maps_and_loads_strictly(official_sd):
    converted = conv.convert_qd_detr_official(official_sd)
    model = _model()
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    sd = model.state_dict()
    for i, key in enumerate(official_sd):
        assert torch.all(sd[conv.convert_key(key)] == float(i)), key
    assert conv.convert_key('global_rep_token') == 'global_token.token'
    assert conv.convert_key('saliency_proj2.bias') == \
        'saliency_head.proj2.bias'
    assert conv.convert_key('transformer.encoder.layers.1.activation.weight') \
        == 'encoder.layers.1.activation.weight'
    with pytest.raises(KeyError, match="QD-DETR converter: unknown official "
                       "key 'foo'"):
        conv.convert_key('foo')


def test_drop_unused_and_cli(official_sd, tmp_path):
    converted = conv.convert_qd_detr_official(official_sd, drop_unused=True)
    _model(official_compat=False).load_state_dict(converted, strict=True)
    src, dst = tmp_path / 'model_best.ckpt', tmp_path / 'qd.pth'
    torch.save(dict(model=official_sd, epoch=3), src)
    conv.main([str(src), str(dst)])
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['epoch'] == 3
    assert ckpt['meta']['converter'].endswith('qd_detr_official_to_mmmrhd.py')
    _model().load_state_dict(ckpt['state_dict'], strict=True)


def test_official_mask_quirk_is_needed_for_parity(fx):
    """Quirk 1: with a correctly ordered fusion mask the saliency moves by
    ~0.08 (fixtures README derived.attn_mask_layout_effect)."""
    adapter = PARITY_ADAPTERS['qddetr']
    sd = rebuild_official_state_dict(fx['portable_init'])
    model = adapter.build_model(fx, sd)
    with torch.no_grad():
        compat = model(fixture_inputs(fx), mode='tensor')
        model.fusion.official_compat = False
        fixed = model(fixture_inputs(fx), mode='tensor')
    effect = fx['derived']['attn_mask_layout_effect']
    for key in ('saliency_scores', 'saliency_scores_neg'):
        torch.testing.assert_close(
            compat[key], fx['outputs'][key], atol=1e-5, rtol=1e-4)
        diff = float((fixed[key] - compat[key]).abs().max())
        assert diff == pytest.approx(effect[key], rel=1e-2), key
