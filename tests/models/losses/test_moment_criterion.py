# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.losses import MomentCriterion
from mmmrhd.models.task_modules import HungarianMatcher
from mmmrhd.registry import MODELS


def _sp(x: float) -> float:
    """softplus(x) = -log(sigmoid(-x))."""
    return math.log1p(math.exp(x))


def _case():
    """B=2, Q=2; sample 0 has one target, sample 1 none.

    Final layer: query 0 of sample 0 fits the target; auxiliary layer: query
    1 does.
    """
    spans = torch.tensor([[[0.45, 0.2], [0.1, 0.1]],
                          [[0.5, 0.5], [0.3, 0.2]]])
    logits = torch.tensor([[[1.0, 0.0], [0.0, 1.0]],
                           [[0.0, 0.0], [2.0, 0.0]]])
    aux_spans = spans[:, [1, 0]].clone()
    aux_logits = torch.tensor([[[0.0, 1.0], [0.0, 1.0]],
                               [[0.0, 0.0], [2.0, 0.0]]])
    outputs = dict(
        pred_logits=logits.requires_grad_(),
        pred_spans=spans.requires_grad_(),
        aux_outputs=[dict(pred_logits=aux_logits, pred_spans=aux_spans)])
    targets = dict(span_labels=[
        dict(spans=torch.tensor([[0.5, 0.2]])),
        dict(spans=torch.zeros(0, 2))
    ])
    return outputs, targets


def test_hand_computed_losses_and_keys():
    outputs, targets = _case()
    criterion = MODELS.build(dict(type='MomentCriterion'))
    losses = criterion(outputs, targets)
    assert list(losses) == [
        'loss_span', 'loss_giou', 'loss_label', 'class_error', 'loss_span_0',
        'loss_giou_0', 'loss_label_0', 'class_error_0'
    ]
    # Matched pair (0.45, 0.2) vs (0.5, 0.2): L1 (0.05 + 0) / 2; xx
    # [0.35, 0.55] vs [0.4, 0.6]: IoU = GIoU = 0.15 / 0.25.
    assert losses['loss_span'].item() == pytest.approx(0.025, abs=1e-7)
    assert losses['loss_giou'].item() == pytest.approx(0.4, abs=1e-6)
    # Classes [[0, 1], [1, 1]]; background weight 0.1; mean over 4 queries.
    label = (_sp(-1) + 0.1 * _sp(-1) + 0.1 * math.log(2) + 0.1 * _sp(2)) / 4
    assert losses['loss_label'].item() == pytest.approx(label, abs=1e-6)
    assert losses['class_error'].item() == 0.0
    # Auxiliary layer: re-matched (query 1), same span losses.
    assert losses['loss_span_0'].item() == pytest.approx(0.025, abs=1e-7)
    assert losses['loss_giou_0'].item() == pytest.approx(0.4, abs=1e-6)
    label0 = (0.1 * _sp(-1) + _sp(1) + 0.1 * math.log(2) + 0.1 * _sp(2)) / 4
    assert losses['loss_label_0'].item() == pytest.approx(label0, abs=1e-6)
    assert losses['class_error_0'].item() == 100.0
    idx = criterion.last_indices
    assert [[(r.tolist(), c.tolist()) for r, c in layer] for layer in idx] \
        == [[([0], [0]), ([], [])], [([1], [0]), ([], [])]]


def test_gradients_reach_matched_queries_only():
    outputs, targets = _case()
    losses = MomentCriterion(aux_loss=False)(outputs, targets)
    assert 'loss_span_0' not in losses
    (losses['loss_span'] + losses['loss_giou']).backward()
    grad = outputs['pred_spans'].grad
    assert grad[0, 0].abs().sum() > 0
    assert grad[0, 1].abs().sum() == 0 and grad[1].abs().sum() == 0
    assert not losses['class_error'].requires_grad


def test_focal_label_loss_and_matcher_instance():
    outputs, targets = _case()
    criterion = MomentCriterion(
        matcher=HungarianMatcher(cost_class=4, cost_span=10, cost_giou=1),
        loss_label=dict(type='SigmoidFocalLabelLoss', alpha=0.25, gamma=2))
    losses = criterion(outputs, targets)
    # One-hot targets (fg = index 0): for each logit z with target y,
    # alpha_t (1 - p_t)^2 BCE; mean over 2 * 4 logits.
    def fl(z, y):
        p = 1 / (1 + math.exp(-z))
        p_t = p if y else 1 - p
        return (0.25 if y else 0.75) * (1 - p_t)**2 * (_sp(-z) if y else
                                                       _sp(z))
    logits = [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [2.0, 0.0]]
    classes = [0, 1, 1, 1]
    expected = sum(
        fl(z[0], c == 0) + fl(z[1], c == 1)
        for z, c in zip(logits, classes)) / 8
    assert losses['loss_label'].item() == pytest.approx(expected, abs=1e-6)


def test_no_target_in_batch():
    outputs, _ = _case()
    targets = dict(span_labels=[dict(spans=torch.zeros(0, 2))] * 2)
    losses = MomentCriterion()(outputs, targets)
    assert losses['loss_span'].item() == 0.0
    assert losses['loss_giou'].item() == 0.0
    assert losses['class_error'].item() == 0.0
    # All queries are background: -log softmax(z)[1] = softplus(z0 - z1).
    label = 0.1 * (_sp(1) + _sp(-1) + math.log(2) + _sp(2)) / 4
    assert losses['loss_label'].item() == pytest.approx(label, abs=1e-6)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert torch.isfinite(outputs['pred_spans'].grad).all()


def test_errors():
    outputs, targets = _case()
    criterion = MomentCriterion()
    with pytest.raises(KeyError, match="'span_labels' is missing from "
                       r"targets; present: \['spans'\]"):
        criterion(outputs, dict(spans=[]))
    with pytest.raises(KeyError, match=r"span_labels'\]\[1\] must be a dict "
                       "with key 'spans'"):
        criterion(outputs, dict(span_labels=[dict(spans=torch.zeros(1, 2)),
                                             torch.zeros(1, 2)]))
    bad = dict(outputs, aux_outputs=[dict(pred_logits=torch.zeros(2, 2, 2))])
    with pytest.raises(KeyError, match=r"'pred_spans' is missing from "
                       r"outputs \(layer '_0'\)"):
        criterion(bad, targets)
    bad = dict(outputs, pred_logits=torch.zeros(2, 3, 2))
    with pytest.raises(ValueError, match='pred_logits must have shape'):
        criterion(bad, targets)
    with pytest.raises(ValueError, match='1 target span sets for a batch '
                       'of 2'):
        criterion(outputs, dict(span_labels=targets['span_labels'][:1]))
