# Copyright (c) mmmrhd contributors. All rights reserved.
"""TR-DETR converter specifics; the checks of every converter are in
``test_official_converters.py``."""
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from mmmrhd.testing import (PARITY_ADAPTERS, distinct_value_state_dict,
                            fixture_inputs, import_converter, load_fixture,
                            rebuild_official_state_dict)

conv = import_converter('tr_detr_official_to_mmmrhd.py')


@pytest.fixture(scope='module')
def fx(fixtures_dir):
    return load_fixture(osp.join(fixtures_dir, 'trdetr.pth'))


@pytest.fixture(scope='module')
def official_sd(fx):
    """Official keys and shapes of the fixture table, distinct values."""
    return distinct_value_state_dict(fx['portable_init'])


def test_pointwise_conv_weights_become_linear(official_sd):
    sd = conv.convert_tr_detr_official(official_sd)
    # the kernel-1 Conv1d weights become Linear weights
    assert sd['refiner.cq_attention.fc.weight'].shape == (256, 1024)
    assert sd['refiner.cq_concat.fc.weight'].shape == (256, 512)


def test_bad_conv_shape(official_sd):
    bad = OrderedDict(official_sd)
    key = 'fuser.cq_concat.conv1d.conv1d.weight'
    bad[key] = bad[key][..., 0]
    with pytest.raises(ValueError, match='must be a kernel-1 Conv1d weight'):
        conv.convert_tr_detr_official(bad)


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
