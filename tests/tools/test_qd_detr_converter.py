# Copyright (c) mmmrhd contributors. All rights reserved.
"""QD-DETR converter specifics; the checks of every converter are in
``test_official_converters.py``."""
import os.path as osp

import pytest
import torch

from mmmrhd.testing import (PARITY_ADAPTERS, fixture_inputs, load_fixture,
                            rebuild_official_state_dict)

@pytest.fixture(scope='module')
def fx(fixtures_dir):
    return load_fixture(osp.join(fixtures_dir, 'qddetr.pth'))


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
