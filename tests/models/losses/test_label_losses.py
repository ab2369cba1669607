# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmmrhd.models.losses import (CrossEntropyLabelLoss,
                                  SigmoidFocalLabelLoss, class_error,
                                  sigmoid_focal_loss)
from mmmrhd.registry import MODELS


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_ce_plain_mean_with_eos_weight():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]])  # (1, 2, 2)
    classes = torch.tensor([[0, 1]])
    loss = MODELS.build(dict(type='CrossEntropyLabelLoss',
                             eos_coef=0.1))(logits, classes)
    # -log softmax: query 0 (class 0) softplus(-2); query 1 (class 1)
    # softplus(-1) weighted by 0.1; plain mean over the 2 queries.
    nll0, nll1 = _softplus(-2.0), _softplus(-1.0)
    assert loss.item() == pytest.approx((nll0 + 0.1 * nll1) / 2, abs=1e-7)
    # Not the weight-normalised mean of reduction='mean' (divisor 1.1).
    weighted_mean = F.cross_entropy(
        logits.transpose(1, 2), classes, torch.tensor([1.0, 0.1]))
    assert weighted_mean.item() == pytest.approx((nll0 + 0.1 * nll1) / 1.1,
                                                 abs=1e-7)
    assert abs(loss.item() - weighted_mean.item()) > 1e-3


def test_ce_weight_not_in_state_dict():
    loss = CrossEntropyLabelLoss(eos_coef=0.3)
    assert loss.state_dict() == {}
    assert loss.class_weight.tolist() == pytest.approx([1.0, 0.3])


def test_focal_elementwise_hand_computed():
    x = torch.tensor([0.0, 0.0, 2.0, -1.0])
    t = torch.tensor([1.0, 0.0, 1.0, 0.0])
    got = sigmoid_focal_loss(x, t, alpha=0.25, gamma=2.0)
    expected = []
    for xi, ti in zip(x.tolist(), t.tolist()):
        p = 1 / (1 + math.exp(-xi))
        ce = _softplus(-xi) if ti == 1 else _softplus(xi)
        p_t = p if ti == 1 else 1 - p
        alpha_t = 0.25 if ti == 1 else 0.75
        expected.append(alpha_t * (1 - p_t)**2 * ce)
    # x = 0: 0.25 * 0.25 * log 2 (positive), 0.75 * 0.25 * log 2 (negative).
    assert expected[0] == pytest.approx(0.0625 * math.log(2))
    torch.testing.assert_close(
        got, torch.tensor(expected), atol=1e-7, rtol=1e-6)
    # alpha < 0 disables the balancing factor.
    no_alpha = sigmoid_focal_loss(x[:1], t[:1], alpha=-1, gamma=2.0)
    assert no_alpha.item() == pytest.approx(0.25 * math.log(2), abs=1e-7)


def test_focal_label_loss_mean_over_both_logits():
    logits = torch.tensor([[[0.0, 0.0], [2.0, -1.0]]])  # (1, 2, 2)
    classes = torch.tensor([[0, 1]])
    loss = MODELS.build(dict(type='SigmoidFocalLabelLoss'))(logits, classes)
    # One-hot targets: query 0 -> (1, 0), query 1 -> (0, 1).
    elems = sigmoid_focal_loss(
        torch.tensor([0.0, 0.0, 2.0, -1.0]),
        torch.tensor([1.0, 0.0, 0.0, 1.0]))
    assert loss.item() == pytest.approx(elems.mean().item(), abs=1e-7)
    assert loss.item() == pytest.approx(
        (0.0625 * math.log(2) + 0.1875 * math.log(2) + float(elems[2]) +
         float(elems[3])) / 4,
        abs=1e-7)


@pytest.mark.parametrize('loss_cls', [CrossEntropyLabelLoss,
                                      SigmoidFocalLabelLoss])
def test_label_loss_shape_errors(loss_cls):
    with pytest.raises(ValueError, match='logits must have shape'):
        loss_cls()(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match='target_classes must have shape'):
        loss_cls()(torch.zeros(1, 3, 2), torch.zeros(1, 2, dtype=torch.long))


def test_class_error():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    err = class_error(logits)
    assert err.dtype == torch.float32 and err.shape == ()
    assert err.item() == pytest.approx(100 / 3, abs=1e-4)
    assert class_error(logits[[0, 2]]).item() == 0.0
    assert class_error(logits[[1]]).item() == 100.0
    # No matched query: 0 (the official code gives NaN).
    assert class_error(torch.zeros(0, 2)).item() == 0.0
    # A logged metric: no gradient.
    assert not class_error(logits.requires_grad_()).requires_grad
