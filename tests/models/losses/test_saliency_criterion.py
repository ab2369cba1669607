# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.losses import (SaliencyCriterion, SaliencyHingeLoss,
                                  neg_pair_loss, rank_contrastive_loss,
                                  saliency_hinge_loss)
from mmmrhd.registry import MODELS


def _batch():
    gen = torch.Generator().manual_seed(5)
    scores = torch.randn(2, 6, generator=gen).requires_grad_()
    neg = torch.randn(2, 6, generator=gen).requires_grad_()
    mask = torch.ones(2, 6)
    mask[1, 4:] = 0
    outputs = dict(saliency_scores=scores, saliency_scores_neg=neg,
                   video_mask=mask)
    targets = dict(
        saliency_pos_labels=torch.tensor([[1, 2], [0, 3]]),
        saliency_neg_labels=torch.tensor([[4, 5], [2, 1]]),
        saliency_all_labels=torch.tensor([[0., 8., 5., 0., 0., 0.],
                                          [12., 0., 0., 3., 0., 0.]]))
    return outputs, targets


def test_default_terms_sum_in_official_order():
    outputs, targets = _batch()
    criterion = MODELS.build(dict(type='SaliencyCriterion'))
    result = criterion(outputs, targets)
    assert list(result) == [
        'loss_saliency', 'saliency_hinge', 'saliency_rank_contrastive',
        'saliency_neg_pair'
    ]
    hinge = saliency_hinge_loss(outputs['saliency_scores'],
                                targets['saliency_pos_labels'],
                                targets['saliency_neg_labels'], 0.2)
    rank = rank_contrastive_loss(outputs['saliency_scores'],
                                 outputs['video_mask'],
                                 targets['saliency_all_labels'],
                                 outputs['saliency_scores_neg'])
    neg = neg_pair_loss(outputs['saliency_scores_neg'], outputs['video_mask'])
    assert torch.equal(result['loss_saliency'], hinge + rank + neg)
    assert torch.equal(result['saliency_hinge'], hinge.detach())
    assert torch.equal(result['saliency_rank_contrastive'], rank.detach())
    assert torch.equal(result['saliency_neg_pair'], neg.detach())
    # Only loss_saliency carries the graph; the terms are for logging.
    assert result['loss_saliency'].requires_grad
    assert not result['saliency_hinge'].requires_grad
    result['loss_saliency'].backward()
    assert outputs['saliency_scores_neg'].grad.abs().sum() > 0


def test_trdetr_and_momentdetr_presets_need_fewer_inputs():
    outputs, targets = _batch()
    tr = SaliencyCriterion(terms=[
        dict(type='SaliencyHingeLoss'),
        dict(type='RankContrastiveLoss', with_neg=False)
    ])
    no_neg = {k: v for k, v in outputs.items() if k != 'saliency_scores_neg'}
    result = tr(no_neg, targets)
    assert set(result) == {
        'loss_saliency', 'saliency_hinge', 'saliency_rank_contrastive'
    }
    md = SaliencyCriterion(terms=[SaliencyHingeLoss(margin=0.2)])
    only = dict(saliency_scores=outputs['saliency_scores'])
    hinge_targets = {
        k: v
        for k, v in targets.items() if k != 'saliency_all_labels'
    }
    result = md(only, hinge_targets)
    hinge = saliency_hinge_loss(outputs['saliency_scores'],
                                targets['saliency_pos_labels'],
                                targets['saliency_neg_labels'], 0.2)
    assert list(result) == ['loss_saliency', 'saliency_hinge']
    assert torch.equal(result['loss_saliency'], hinge)


def test_errors():
    outputs, targets = _batch()
    with pytest.raises(ValueError, match='terms is empty'):
        SaliencyCriterion(terms=[])
    with pytest.raises(ValueError, match='duplicate term names'):
        SaliencyCriterion(terms=[SaliencyHingeLoss(), SaliencyHingeLoss()])
    with pytest.raises(ValueError, match="has no string attribute `name`"):
        SaliencyCriterion(terms=[torch.nn.Identity()])
    with pytest.raises(ValueError, match="start with 'loss'"):
        SaliencyCriterion(log_prefix='loss_')
    no_mask = {k: v for k, v in outputs.items() if k != 'video_mask'}
    with pytest.raises(KeyError, match="RankContrastiveLoss: 'video_mask' "
                       'is missing from outputs'):
        SaliencyCriterion()(no_mask, targets)
