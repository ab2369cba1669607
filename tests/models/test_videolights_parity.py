# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights parity with the official release (shared/fixtures).

``videolights.pth`` (no-BLIP, 3/3/1 layers, epoch_i=9): the portable-init
weights are rebuilt, converted with the repository converter and loaded
strictly into ``VideoLights(official_compat=True)``; the forward reproduces
every official output, the criteria on the official outputs reproduce every
loss term, and the full chain (our forward -> criteria -> weighted total ->
backward) reproduces the total and the gradients (fixtures README §10-§11).
"""
import os.path as osp

import pytest
import torch

from mmmrhd.testing import (fixture_data_samples, fixture_inputs, load_fixture,
                            rebuild_official_state_dict, state_dict_sha256)
from mmmrhd.testing.adapters.videolights import (
    build_videolights_from_fixture, import_videolights_converter)
from mmmrhd.testing.compare import assert_fixture_losses
from mmmrhd.testing.parity import check_fixture

OUT_TOL = dict(atol=1e-5, rtol=1e-4)  # README §11: outputs / losses
OUT_KEYS = ('pred_logits', 'pred_spans', 'saliency_scores',
            'saliency_scores_neg', 'saliency_scores_mr', 'proj_queries',
            'proj_txt_mem', 'src_txt', 'src_vid', 'video_mask')


@pytest.fixture(scope='module')
def converter():
    return import_videolights_converter()


@pytest.fixture(scope='module')
def case(fixtures_dir):
    fx = load_fixture(osp.join(fixtures_dir, 'videolights.pth'))
    sd = rebuild_official_state_dict(fx['portable_init'],
                                     fx['portable_init_keep'])
    return fx, sd, build_videolights_from_fixture(fx, sd)


def test_weights_hash_and_strict_load(case, converter):
    fx, sd, model = case
    assert state_dict_sha256(sd) == fx['meta']['state_dict_sha256']
    assert sum(p.numel() for p in model.parameters()) == \
        fx['meta']['n_params'] == 10_399_975
    state = model.state_dict()
    for key, value in sd.items():
        ours = state[converter.convert_key(key)]
        assert torch.equal(ours, value.reshape(ours.shape)), key
    # epoch_i = 9 -> factor 10 on top of hard_pos_neg_loss_coef 10
    hard = [m for m in model.modules() if hasattr(m, 'epoch_factor')]
    assert len(hard) == 2 and all(m.epoch_factor == 10.0 for m in hard)
    assert fx['loss_saliency_terms']['hard_factor'] == 100.0


def test_forward_outputs(case):
    fx, _, model = case
    with torch.no_grad():
        out = model(fixture_inputs(fx), mode='tensor')
    ref = fx['outputs']
    for key in OUT_KEYS:
        torch.testing.assert_close(out[key], ref[key], **OUT_TOL, msg=key)
    assert len(out['aux_outputs']) == len(ref['aux_outputs']) == 2
    for ours, theirs in zip(out['aux_outputs'], ref['aux_outputs']):
        for key in ('pred_logits', 'pred_spans', 'proj_queries'):
            torch.testing.assert_close(ours[key], theirs[key], **OUT_TOL)


def test_losses_on_official_outputs(case):
    fx, _, model = case
    outputs = dict(fx['outputs'], text_mask=fx['inputs']['src_txt_mask'])
    losses = model.losses_from_outputs(outputs, dict(fx['targets']))
    for key, value in fx['losses'].items():
        assert losses[key].shape == value.shape, key
        torch.testing.assert_close(losses[key], value, **OUT_TOL, msg=key)
    terms = fx['loss_saliency_terms']
    for name in ('neg_pair', 'rank_contrastive', 'hinge', 'cos_sim',
                 'mr_to_hd', 'hard_neg', 'hard_pos'):
        torch.testing.assert_close(
            losses[f'saliency_{name}'], terms[name].reshape(()), **OUT_TOL)
    total, _ = model.joint_loss(losses)
    assert total.shape == fx['total_loss'].shape == (1, )
    torch.testing.assert_close(total, fx['total_loss'], **OUT_TOL)


def test_full_chain_total_and_gradients(case, converter):
    fx, _, model = case
    model.zero_grad(set_to_none=True)
    losses = model(fixture_inputs(fx), fixture_data_samples(fx), mode='loss')
    assert_fixture_losses(losses, model.moment_loss.last_indices, fx)
    total, _ = model.parse_losses(losses)
    torch.testing.assert_close(total.detach(), fx['total_loss'], **OUT_TOL)
    total.backward()
    params = dict(model.named_parameters())
    gtn = fx['grad_total_norm']
    atol, rtol = 1e-5 * gtn, 1e-3
    for name, norm in fx['grad_norms'].items():
        grad = params[converter.convert_key(name)].grad
        if norm is None:  # unused officially: norm2, txt pos, vid proj
            assert grad is None, name
            continue
        assert abs(float(grad.norm()) - norm) <= atol + rtol * abs(norm), name
    for group in ('grads_full', 'grads_small'):
        for name, ref in fx[group].items():
            grad = params[converter.convert_key(name)].grad
            torch.testing.assert_close(
                grad.reshape(ref.shape), ref, atol=atol, rtol=rtol, msg=name)
    model.zero_grad(set_to_none=True)


def test_converter_rejects_unknown_key_and_bad_width(case, converter):
    _, sd, _ = case
    with pytest.raises(KeyError, match='unknown official key'):
        converter.convert_key('transformer.something_new.weight')
    with pytest.raises(ValueError, match='declared streams sum to 2816'):
        converter.convert_videolights_official(
            sd, video_streams=[dict(name='video', dim=2816)])
    dropped = converter.convert_videolights_official(sd, drop_unused=True)
    assert not any(k.startswith('unused_') for k in dropped)


def test_generic_parity_tool_picks_videolights(fixtures_dir):
    fx = load_fixture(osp.join(fixtures_dir, 'videolights.pth'))
    rows = check_fixture(fx)
    bad = [r for r in rows if not r.ok]
    assert not bad, [(r.category, r.name, r.max_abs) for r in bad]
    categories = {r.category for r in rows}
    assert {'outputs', 'losses', 'total', 'grads'} <= categories
