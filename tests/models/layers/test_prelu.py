# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
from torch import nn

from mmmrhd.models.layers import PReLU


def _pair(num_parameters=1, init=0.3):
    ref = nn.PReLU(num_parameters, init)
    ours = PReLU(num_parameters, init)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(-0.2, 0.4, num_parameters))
        ours.weight.copy_(ref.weight)
    return ref, ours


@pytest.mark.parametrize('num_parameters', [1, 3])
def test_forward_and_gradients_equal_nn_prelu(num_parameters):
    torch.manual_seed(0)
    ref, ours = _pair(num_parameters)
    x = torch.randn(4, 3, 50)
    x[0, 0, :5] = 0.0  # x == 0 takes the slope branch in both
    grad = torch.randn(4, 3, 50)
    xr, xo = x.clone().requires_grad_(), x.clone().requires_grad_()
    yr, yo = ref(xr), ours(xo)
    assert torch.equal(yr, yo)
    yr.backward(grad)
    yo.backward(grad)
    assert torch.equal(xr.grad, xo.grad)
    torch.testing.assert_close(
        ours.weight.grad, ref.weight.grad, rtol=1e-5, atol=1e-6)
    # Hand check of the slope gradient: sum(grad * min(x, 0)).
    if num_parameters == 1:
        expected = (grad.double() * x.double().clamp(max=0)).sum()
        assert float(ours.weight.grad) == pytest.approx(
            float(expected), rel=1e-5)


def test_partial_gradients_and_no_grad():
    _, ours = _pair()
    x = torch.randn(6, 7)
    ours.weight.requires_grad_(False)
    xg = x.clone().requires_grad_()
    ours(xg).sum().backward()
    assert torch.equal(xg.grad, torch.where(x > 0, 1.0, ours.weight.item()))
    ours.weight.requires_grad_(True)
    ours(x).sum().backward()  # input without grad: weight only
    assert float(ours.weight.grad) == pytest.approx(
        float(x.clamp(max=0).sum()), rel=1e-6)
    with torch.no_grad():
        assert torch.equal(ours(x), nn.functional.prelu(x, ours.weight))


def test_state_dict_matches_nn_prelu():
    assert list(PReLU().state_dict()) == list(nn.PReLU().state_dict())
