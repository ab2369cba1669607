# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave parity with the official release (shared/fixtures).

For each fixture: the portable-init weights are rebuilt and hashed, converted
with the repository converter, strictly loaded into ``TaskWeave(
official_compat=True)``; the forward reproduces the official outputs and
the full chain (our forward -> our criteria -> our joint loss -> backward)
reproduces the official losses, total and gradients (fixtures README §10,
§11 tolerances).
"""
import os.path as osp

import pytest
import torch

from mmmrhd.testing import (build_taskweave_from_fixture, fixture_data_samples,
                            fixture_inputs, import_taskweave_converter,
                            load_fixture, rebuild_official_state_dict,
                            state_dict_sha256, taskweave_feedback_active)
from mmmrhd.testing.compare import assert_fixture_losses

FIXTURES = ('hd2mr_epoch50', 'hd2mr_epoch150', 'hd2mr_infer', 'mr2hd_epoch150')
OUT_TOL = dict(atol=1e-5, rtol=1e-4)  # README §11: outputs / losses


@pytest.fixture(scope='module')
def converter():
    return import_taskweave_converter()


@pytest.fixture(scope='module')
def cache():
    return {}


def _load(name, fixtures_dir, cache):
    """(fixture, rebuilt official state_dict, our model), built once."""
    if name not in cache:
        fx = load_fixture(osp.join(fixtures_dir, f'taskweave_{name}.pth'))
        sd = rebuild_official_state_dict(fx['portable_init'],
                                         fx['portable_init_keep'])
        cache[name] = (fx, sd, build_taskweave_from_fixture(fx, sd))
    return cache[name]


@pytest.fixture(params=FIXTURES)
def case(request, fixtures_dir, cache):
    return _load(request.param, fixtures_dir, cache)


def test_rebuilt_weights_match_hash(case):
    fx, sd, _ = case
    assert list(sd) == list(fx['portable_init'])
    assert state_dict_sha256(sd) == fx['meta']['state_dict_sha256']


def test_converted_weights_load_strictly(case, converter):
    fx, sd, model = case
    converted = converter.convert_taskweave_official(sd)
    assert set(converted) == set(model.state_dict())
    assert sum(p.numel() for p in model.parameters()) == \
        fx['meta']['n_params'] == 7_784_488
    for key, value in sd.items():
        assert torch.equal(model.state_dict()[converter.convert_key(key)],
                           value), key
    assert model.feedback_active == taskweave_feedback_active(
        fx['meta']['epoch_i'])


def test_forward_outputs(case):
    fx, _, model = case
    with torch.no_grad():
        out = model(fixture_inputs(fx), mode='tensor')
    ref = fx['outputs']
    for key in ('pred_logits', 'pred_spans', 'saliency_scores',
                'saliency_scores_neg'):
        torch.testing.assert_close(out[key], ref[key], **OUT_TOL, msg=key)
    assert len(out['aux_outputs']) == len(ref['aux_outputs']) == 1
    for ours, theirs in zip(out['aux_outputs'], ref['aux_outputs']):
        for key in ('pred_logits', 'pred_spans'):
            torch.testing.assert_close(ours[key], theirs[key], **OUT_TOL)
    assert torch.equal(out['video_mask'], ref['video_mask'])


def test_feedback_masks(case):
    fx, _, model = case
    inputs = fixture_inputs(fx)
    derived = fx['derived']
    with torch.no_grad():
        out = model(inputs, mode='tensor')
    if 'hd2mr_mask' in derived:
        # official HD2MR mask = 1[s > mean over all 75 positions]
        mask = model.feedback.h2m(out['saliency_scores'], inputs['video_mask'])
        assert torch.equal(mask, derived['hd2mr_mask'])
    if 'mr2hd_mask_norm_recomputed' in derived:
        mask = model.feedback.m2m(out['pred_spans'], inputs['video_mask'])
        torch.testing.assert_close(mask, derived['mr2hd_mask_norm_recomputed'],
                                   **OUT_TOL)


def test_inference_equals_feedback_epoch(fixtures_dir, cache):
    """epoch_i=None and epoch_i=150 both have feedback on (README §10)."""
    fx, _, infer = _load('hd2mr_infer', fixtures_dir, cache)
    epoch150 = _load('hd2mr_epoch150', fixtures_dir, cache)[2]
    assert infer.feedback_active and epoch150.feedback_active
    inputs = fixture_inputs(fx)
    with torch.no_grad():
        a = infer(inputs, mode='tensor')
        b = epoch150(inputs, mode='tensor')
    for key in ('pred_logits', 'pred_spans', 'saliency_scores'):
        assert torch.equal(a[key], b[key])


def test_full_chain_losses_total_and_gradients(case, converter):
    fx, _, model = case
    model.zero_grad(set_to_none=True)
    losses = model(fixture_inputs(fx), fixture_data_samples(fx), mode='loss')
    assert_fixture_losses(losses, model.moment_loss.last_indices, fx)
    total, log_vars = model.parse_losses(losses)
    assert total.shape == fx['total_loss'].shape == (1, )
    torch.testing.assert_close(total.detach(), fx['total_loss'], **OUT_TOL)
    torch.testing.assert_close(log_vars['loss_mr'],
                               fx['loss_extra']['loss_mr'], **OUT_TOL)
    total.backward()

    params = dict(model.named_parameters())
    gtn = fx['grad_total_norm']
    grad_tol = dict(atol=1e-5 * gtn, rtol=1e-3)
    for name, norm in fx['grad_norms'].items():
        grad = params[converter.convert_key(name)].grad
        if norm is None:  # unused official txt_position_embed
            assert grad is None, name
            continue
        assert abs(float(grad.norm()) -
                   norm) <= (grad_tol['atol'] +
                             grad_tol['rtol'] * abs(norm)), name
    for group in ('grads_full', 'grads_small'):
        for name, ref in fx[group].items():
            grad = params[converter.convert_key(name)].grad
            torch.testing.assert_close(grad, ref, **grad_tol, msg=name)
    # Inverted MaskedConv1D mask: exactly zero, not None (quirk 12).
    assert torch.count_nonzero(params['neck.mr_expert.conv.weight'].grad) == 0
    assert torch.count_nonzero(params['neck.mr_expert.norm.weight'].grad) == 0
    model.zero_grad(set_to_none=True)
