# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity of the criteria and joint losses with the official fixtures.

The official ``outputs`` and ``targets`` of each fixture go through our
criteria; the result must reproduce the official ``losses``,
``loss_saliency_terms``, ``matcher_indices`` and totals (fixtures README
sections 7, 10 and 11: atol 1e-5, rtol 1e-4; ``class_error`` exactly).
Not implemented here, so not compared: VideoLights' cos-sim, MR-to-HD and
hard positive/negative saliency terms and ``loss_contrastive_align``;
TR-DETR's VTC/CTC alignment losses.
"""
import functools
import os.path as osp

import pytest
import torch

from mmmrhd.models.losses import (MomentCriterion, SaliencyCriterion,
                                  UncertaintyJointLoss, WeightedSumLoss)

TASKWEAVE = [
    'taskweave_hd2mr_epoch50', 'taskweave_hd2mr_epoch150',
    'taskweave_hd2mr_infer', 'taskweave_mr2hd_epoch150'
]
ALL = TASKWEAVE + ['qddetr', 'trdetr', 'videolights', 'momentdetr']

#: Per model: label loss and saliency terms (official configuration).
CE = dict(type='CrossEntropyLabelLoss', eos_coef=0.1)
QD_TERMS = [
    dict(type='SaliencyHingeLoss', margin=0.2),
    dict(type='RankContrastiveLoss', with_neg=True),
    dict(type='NegPairLoss', mode='official')
]
SETUP = {name: (CE, QD_TERMS) for name in TASKWEAVE + ['qddetr',
                                                        'videolights']}
SETUP['trdetr'] = (dict(type='SigmoidFocalLabelLoss', alpha=0.25, gamma=2.0),
                   [
                       dict(type='SaliencyHingeLoss', margin=0.2),
                       dict(type='RankContrastiveLoss', with_neg=False)
                   ])
SETUP['momentdetr'] = (CE, [dict(type='SaliencyHingeLoss', margin=0.2)])
#: Official ``loss_saliency`` contains terms we do not implement.
PARTIAL_SALIENCY = {'videolights'}

TOL = dict(atol=1e-5, rtol=1e-4)


@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    return torch.load(path, weights_only=True)


@pytest.fixture
def fx(fixtures_dir, request):
    path = osp.join(fixtures_dir, f'{request.param}.pth')
    if not osp.isfile(path):
        pytest.skip(f'{path} not found')
    return request.param, _load(path)


def _criteria(name):
    label, terms = SETUP[name]
    return MomentCriterion(loss_label=label), SaliencyCriterion(terms=terms)


def _official_order(moment: dict, saliency: dict) -> dict:
    """Our losses in the official key order (final layer, saliency, aux)."""
    losses = {k: moment[k] for k in moment if not k[-1].isdigit()}
    losses['loss_saliency'] = saliency['loss_saliency']
    losses.update({k: moment[k] for k in moment if k[-1].isdigit()})
    return losses


@pytest.mark.parametrize('fx', ALL, indirect=True)
def test_moment_losses_and_matching(fx):
    name, fx = fx
    moment, _ = _criteria(name)
    losses = moment(fx['outputs'], fx['targets'])
    expected = {k: v for k, v in fx['losses'].items()
                if k.startswith(('loss_span', 'loss_giou', 'loss_label',
                                 'class_error'))}
    assert set(losses) == set(expected)
    for key, value in expected.items():
        if key.startswith('class_error'):
            assert torch.equal(losses[key], value), key
        else:
            torch.testing.assert_close(losses[key], value, **TOL, msg=key)
    assert len(moment.last_indices) == len(fx['matcher_indices'])
    for layer, exp_layer in zip(moment.last_indices, fx['matcher_indices']):
        for (rows, cols), (exp_rows, exp_cols) in zip(layer, exp_layer):
            assert torch.equal(rows, exp_rows)
            assert torch.equal(cols, exp_cols)


@pytest.mark.parametrize('fx', ALL, indirect=True)
def test_saliency_terms(fx):
    name, fx = fx
    _, saliency = _criteria(name)
    result = saliency(fx['outputs'], fx['targets'])
    terms = {k: v for k, v in fx['loss_saliency_terms'].items()
             if isinstance(v, torch.Tensor)}
    for term in saliency.terms:
        if term.name in terms:  # Moment-DETR stores no terms
            torch.testing.assert_close(
                result[f'saliency_{term.name}'], terms[term.name], **TOL,
                msg=term.name)
    if name in PARTIAL_SALIENCY:
        ours = (terms['hinge'] + terms['rank_contrastive'] +
                terms['neg_pair'])
    else:
        ours = fx['losses']['loss_saliency']
    torch.testing.assert_close(result['loss_saliency'], ours, **TOL)


@pytest.mark.parametrize('fx', ALL, indirect=True)
def test_weighted_sum(fx):
    name, fx = fx
    expected = fx['loss_extra']['weighted_sum']
    weights = {k: v for k, v in fx['weight_dict'].items()
               if not k[-1].isdigit()}
    assert weights == dict(loss_span=10.0, loss_giou=1.0, loss_label=4.0,
                           loss_saliency=1.0, **(
                               dict(loss_contrastive_align=0.2)
                               if name == 'videolights' else {}))
    joint = WeightedSumLoss(weights=weights)
    if name in PARTIAL_SALIENCY:
        # Our criteria lack some official terms: check the weighted sum on
        # the official loss dict.
        total, _ = joint(fx['losses'])
    else:
        moment, saliency = _criteria(name)
        losses = _official_order(moment(fx['outputs'], fx['targets']),
                                 saliency(fx['outputs'], fx['targets']))
        total, _ = joint(losses)
    torch.testing.assert_close(total, expected, **TOL)
    if name in ('qddetr', 'momentdetr'):
        torch.testing.assert_close(total, fx['total_loss'], **TOL)


@pytest.mark.parametrize('fx', TASKWEAVE, indirect=True)
def test_taskweave_uncertainty_total_and_log_var_grads(fx):
    name, fx = fx
    moment, saliency = _criteria(name)
    # The outputs are leaves, so only the log-variances and the outputs get
    # gradients.
    outputs = dict(fx['outputs'])
    for key in ('pred_spans', 'pred_logits', 'saliency_scores',
                'saliency_scores_neg'):
        outputs[key] = outputs[key].clone().requires_grad_()
    losses = _official_order(moment(outputs, fx['targets']),
                             saliency(outputs, fx['targets']))
    joint = UncertaintyJointLoss()
    hd_log_var, mr_log_var = fx['outputs']['log_vars']
    with torch.no_grad():
        joint.hd_log_var.copy_(hd_log_var)
        joint.mr_log_var.copy_(mr_log_var)
    total, log_vars = joint(losses)
    assert total.shape == fx['total_loss'].shape == (1, )
    torch.testing.assert_close(total, fx['total_loss'], **TOL)
    torch.testing.assert_close(log_vars['loss_mr'],
                               fx['loss_extra']['loss_mr'], **TOL)
    torch.testing.assert_close(log_vars['loss_hd'],
                               fx['loss_extra']['loss_hd'], **TOL)
    assert fx['loss_extra']['mr_keys'] == [
        k for k in losses if k.startswith(('loss_span', 'loss_giou',
                                           'loss_label'))
    ]
    total.backward()
    grads = fx['grads_full']
    budget = dict(atol=1e-5 * fx['grad_total_norm'], rtol=1e-3)
    torch.testing.assert_close(joint.hd_log_var.grad, grads['hd_log_var'],
                               **budget)
    torch.testing.assert_close(joint.mr_log_var.grad, grads['mr_log_var'],
                               **budget)
    # Analytically: d/ds = -factor * L * exp(-s) + 1.
    l_hd = fx['loss_extra']['loss_hd']
    l_mr = fx['loss_extra']['loss_mr']
    torch.testing.assert_close(
        joint.hd_log_var.grad,
        (-2 * l_hd * torch.exp(-hd_log_var) + 1).reshape(1), **TOL)
    torch.testing.assert_close(
        joint.mr_log_var.grad,
        (-l_mr * torch.exp(-mr_log_var) + 1).reshape(1), **TOL)
    # Padded clips get an exactly zero gradient: the neg-pair term and the
    # rank-contrastive masking (m * s + (1 - m) * -1000) both multiply the
    # score by the mask.
    grad_neg = outputs['saliency_scores_neg'].grad
    mask = fx['outputs']['video_mask']
    assert torch.all(grad_neg[mask == 0] == 0)
    assert torch.isfinite(grad_neg).all()
