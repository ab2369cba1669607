# Copyright (c) mmmrhd contributors. All rights reserved.
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from mmmrhd.registry import MODELS
from mmmrhd.testing import import_converter, load_fixture
from mmmrhd.utils import register_all_modules

conv = import_converter('moment_detr_official_to_mmmrhd.py')
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
def official_sd(fixtures_dir):
    fx = load_fixture(osp.join(fixtures_dir, 'momentdetr.pth'))
    return OrderedDict((k, torch.full(e['shape'], float(i)))
                       for i, (k, e) in enumerate(fx['portable_init'].items()))


def _model(official_compat=True):
    register_all_modules()
    return MODELS.build(
        dict(type='MomentDETR', official_compat=official_compat, **QVHL))


def test_every_official_key_maps_and_loads_strictly(official_sd):
    converted = conv.convert_moment_detr_official(official_sd)
    model = _model()
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    sd = model.state_dict()
    for i, key in enumerate(official_sd):
        assert torch.all(sd[conv.convert_key(key)] == float(i)), key
    assert conv.convert_key('query_embed.weight') == \
        'decoder.query_embed.weight'
    assert conv.convert_key(
        'transformer.decoder.layers.0.multihead_attn.in_proj_weight') == \
        'decoder.layers.0.multihead_attn.in_proj_weight'
    assert conv.convert_key('saliency_proj.bias') == 'saliency_head.proj.bias'
    with pytest.raises(KeyError, match='Moment-DETR converter: unknown'):
        conv.convert_key('global_rep_token')


def test_drop_unused_and_cli(official_sd, tmp_path):
    converted = conv.convert_moment_detr_official(official_sd,
                                                  drop_unused=True)
    _model(official_compat=False).load_state_dict(converted, strict=True)
    src, dst = tmp_path / 'md.ckpt', tmp_path / 'md.pth'
    torch.save(dict(model=official_sd), src)
    conv.main([str(src), str(dst)])
    ckpt = torch.load(dst, weights_only=True)
    _model().load_state_dict(ckpt['state_dict'], strict=True)
