# Copyright (c) mmmrhd contributors. All rights reserved.
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from mmmrhd.registry import MODELS
from mmmrhd.testing import (PARITY_ADAPTERS, fixture_inputs, import_converter,
                            load_fixture, rebuild_official_state_dict)
from mmmrhd.utils import register_all_modules

conv = import_converter('tr_detr_official_to_mmmrhd.py')
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
    return load_fixture(osp.join(fixtures_dir, 'trdetr.pth'))


@pytest.fixture(scope='module')
def official_sd(fx):
    """Official keys and shapes of the fixture table, distinct values."""
    return OrderedDict((k, torch.full(e['shape'], float(i)))
                       for i, (k, e) in enumerate(fx['portable_init'].items()))


def _model(official_compat=True):
    register_all_modules()
    return MODELS.build(
        dict(type='TRDETR', official_compat=official_compat, **QVHL))


def test_every_official_key_maps_and_loads_strictly(official_sd):
    converted = conv.convert_tr_detr_official(official_sd)
    model = _model()
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    sd = model.state_dict()
    for i, key in enumerate(official_sd):
        assert torch.all(sd[conv.convert_key(key)] == float(i)), key
    # the kernel-1 Conv1d weights become Linear weights
    assert sd['refiner.cq_attention.fc.weight'].shape == (256, 1024)
    assert sd['refiner.cq_concat.fc.weight'].shape == (256, 512)
    assert conv.convert_key('gru_extractor.gru.weight_hh_l0') == \
        'mr2hd.gru.weight_hh_l0'
    assert conv.convert_key('fuser.cq_attention.w4mlu') == \
        'refiner.cq_attention.w4mlu'
    assert conv.convert_key('saliency_proj1.bias') == \
        'saliency_head.proj1.bias'
    with pytest.raises(KeyError, match="TR-DETR converter: unknown official "
                       "key 'saliency_proj2.weight'"):
        conv.convert_key('saliency_proj2.weight')


def test_bad_conv_shape(official_sd):
    bad = OrderedDict(official_sd)
    key = 'fuser.cq_concat.conv1d.conv1d.weight'
    bad[key] = bad[key][..., 0]
    with pytest.raises(ValueError, match='must be a kernel-1 Conv1d weight'):
        conv.convert_tr_detr_official(bad)


def test_drop_unused_and_cli(official_sd, tmp_path):
    converted = conv.convert_tr_detr_official(official_sd, drop_unused=True)
    _model(official_compat=False).load_state_dict(converted, strict=True)
    src, dst = tmp_path / 'model_best.ckpt', tmp_path / 'tr.pth'
    torch.save(dict(model=official_sd, epoch=154), src)
    conv.main([str(src), str(dst)])
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['epoch'] == 154
    assert ckpt['meta']['converter'].endswith('tr_detr_official_to_mmmrhd.py')
    _model().load_state_dict(ckpt['state_dict'], strict=True)


def test_release_quirks_are_needed_for_parity(fx):
    """Quirks 1, 14, 15: switching a part to the paper-intent behaviour
    moves the outputs away from the release."""
    adapter = PARITY_ADAPTERS['trdetr']
    model = adapter.build_model(fx, rebuild_official_state_dict(
        fx['portable_init']))
    inputs = fixture_inputs(fx)
    ref = fx['outputs']['saliency_scores']
    with torch.no_grad():
        compat = model(inputs, mode='tensor')
        torch.testing.assert_close(compat['saliency_scores'], ref,
                                   atol=1e-5, rtol=1e-4)
        # quirk 1: correctly ordered T2V mask (fixture: 0.077 on saliency)
        model.fusion.official_compat = False
        diff = float((model(inputs, mode='tensor')['saliency_scores'] -
                      compat['saliency_scores']).abs().max())
        assert diff == pytest.approx(
            fx['derived']['attn_mask_layout_effect']['saliency_scores'],
            rel=1e-2)
        model.fusion.official_compat = True
        # quirk 14: sample 2 has a negative start (slice bounds [-1, 43]):
        # the release feeds the GRU zeros only
        assert fx['derived']['mr2hd_slice_bounds'][2][0] < 0
        model.mr2hd.official_compat = False
        moved = model(inputs, mode='tensor')['saliency_scores']
        assert float((moved - ref).abs().max()) > 1e-2
        model.mr2hd.official_compat = True
        # quirk 15: HD2MR softmax over valid clips only changes the padded
        # samples (1 and 3) but not the unpadded ones (0 and 2)
        model.hd2mr.official_compat = False
        moved = model(inputs, mode='tensor')['pred_spans']
        lengths = inputs['video_mask'].sum(1)
        for b in range(len(lengths)):
            diff = float((moved[b] - compat['pred_spans'][b]).abs().max())
            if lengths[b] == inputs['video_mask'].shape[1]:
                assert diff < 1e-5
            else:
                assert diff > 1e-4
