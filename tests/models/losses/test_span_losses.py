# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.losses import SpanGIoULoss, SpanL1Loss
from mmmrhd.registry import MODELS


def test_l1_hand_computed():
    pred = torch.tensor([[0.5, 0.2], [0.3, 0.1]])
    tgt = torch.tensor([[0.4, 0.2], [0.3, 0.3]])
    # (0.1 + 0 + 0 + 0.2) / 4 elements.
    loss = MODELS.build(dict(type='SpanL1Loss'))(pred, tgt)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(0.075, abs=1e-7)


def test_giou_hand_computed():
    pred = torch.tensor([[0.5, 0.2], [0.2, 0.2]])
    tgt = torch.tensor([[0.55, 0.1], [0.8, 0.2]])
    # Pair 0: [0.4, 0.6] vs [0.5, 0.6]: IoU 0.5, enclosing = union -> GIoU
    # 0.5. Pair 1: [0.1, 0.3] vs [0.7, 0.9]: IoU 0, union 0.4, enclosing 0.8
    # -> GIoU -0.5. Mean of (1 - GIoU): (0.5 + 1.5) / 2.
    loss = SpanGIoULoss()(pred, tgt)
    assert loss.item() == pytest.approx(1.0, abs=1e-6)
    # Only the matched pairs count, not the off-diagonal ones.
    single = SpanGIoULoss()(pred[:1], tgt[:1])
    assert single.item() == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize('loss_cls', [SpanL1Loss, SpanGIoULoss])
def test_no_pairs_is_zero_with_graph(loss_cls):
    pred = torch.zeros(0, 2, requires_grad=True)
    loss = loss_cls()(pred, torch.zeros(0, 2))
    assert loss.item() == 0.0
    loss.backward()
    assert pred.grad is not None and pred.grad.shape == (0, 2)


@pytest.mark.parametrize('loss_cls', [SpanL1Loss, SpanGIoULoss])
def test_shape_errors(loss_cls):
    with pytest.raises(ValueError, match=r'pred_spans must have shape'):
        loss_cls()(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match=r'target_spans must have shape'):
        loss_cls()(torch.zeros(3, 2), torch.zeros(2, 2))
