# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.layers import WeightedPool, mask_logits
from mmmrhd.registry import MODELS


def test_mask_logits_adds_large_negative():
    out = mask_logits(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    assert out[0].item() == 1.0
    assert out[1].item() == pytest.approx(-1e30)


def test_weighted_pool_hand_computed():
    pool = MODELS.build(dict(type='WeightedPool', embed_dim=2))
    with torch.no_grad():
        pool.weight.copy_(torch.tensor([[1.0], [2.0]]))
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    # logits 1 and 2 at the valid tokens, the third token is masked out
    a0 = math.e / (math.e + math.e**2)
    out = pool(x, mask)
    torch.testing.assert_close(out, torch.tensor([[a0, 1 - a0]]))
    # unmasked: the third token (logit 15) dominates
    out_all = pool(x, torch.ones(1, 3))
    assert out_all[0, 0].item() == pytest.approx(5.0, abs=1e-4)


def test_weighted_pool_grad_and_errors():
    pool = WeightedPool(4)
    x = torch.randn(2, 3, 4, requires_grad=True)
    pool(x, torch.tensor([[1.0, 1, 1], [1, 0, 0]])).sum().backward()
    assert pool.weight.grad is not None
    # the masked tokens of sample 1 get no gradient
    assert x.grad[1, 1:].abs().max().item() == 0.0
    with pytest.raises(ValueError, match='WeightedPool: x must be'):
        pool(torch.randn(2, 3, 5), torch.ones(2, 3))
    with pytest.raises(ValueError, match='does not match'):
        pool(torch.randn(2, 3, 4), torch.ones(2, 4))
