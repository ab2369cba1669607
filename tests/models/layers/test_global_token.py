# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.layers import GlobalToken
from mmmrhd.registry import MODELS


def test_prepends_token_valid_mask_and_pos():
    tok = GlobalToken(3)
    with torch.no_grad():
        tok.token.copy_(torch.tensor([1., 2., 3.]))
        tok.pos.copy_(torch.tensor([-1., 0., 1.]))
    x = torch.arange(12.).view(2, 2, 3)
    mask = torch.tensor([[1., 0.], [1., 1.]])
    pos = torch.full((2, 2, 3), 7.)
    x2, mask2, pos2 = tok(x, mask, pos)
    assert x2.shape == (2, 3, 3) and mask2.shape == (2, 3)
    assert x2[:, 0].tolist() == [[1., 2., 3.]] * 2
    assert torch.equal(x2[:, 1:], x)
    assert mask2.tolist() == [[1., 1., 0.], [1., 1., 1.]]
    assert mask2.dtype == mask.dtype
    assert pos2[:, 0].tolist() == [[-1., 0., 1.]] * 2
    assert torch.equal(pos2[:, 1:], pos)
    g, local = GlobalToken.split(x2)
    assert torch.equal(g, x2[:, 0]) and torch.equal(local, x)


def test_bool_mask_and_gradient():
    tok = MODELS.build(dict(type='GlobalToken', embed_dim=4))
    x, mask = torch.randn(3, 5, 4), torch.ones(3, 5, dtype=torch.bool)
    x2, mask2, pos2 = tok(x, mask, torch.zeros(3, 5, 4))
    assert mask2.dtype == torch.bool and bool(mask2[:, 0].all())
    (x2[:, 0].sum() * 2 + pos2[:, 0].sum()).backward()
    # every sample's copy contributes: d(sum)/d(token) = 2 * B
    assert tok.token.grad.tolist() == [6.] * 4
    assert tok.pos.grad.tolist() == [3.] * 4


def test_bad_shapes():
    tok = GlobalToken(4)
    with pytest.raises(ValueError, match='must be \\(B, L, 4\\)'):
        tok(torch.zeros(2, 5, 3), torch.ones(2, 5), torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match='must match tokens'):
        tok(torch.zeros(2, 5, 4), torch.ones(2, 4), torch.zeros(2, 5, 4))
