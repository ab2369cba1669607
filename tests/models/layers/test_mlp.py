# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.layers import MLP, inverse_sigmoid


def test_mlp_layers_and_relu():
    mlp = MLP(3, 5, 2, 3)
    assert [tuple(l.weight.shape) for l in mlp.layers] == [(5, 3), (5, 5),
                                                           (2, 5)]
    x = torch.randn(4, 3)
    h = torch.relu(mlp.layers[0](x))
    h = torch.relu(mlp.layers[1](h))
    torch.testing.assert_close(mlp(x), mlp.layers[2](h))
    with pytest.raises(ValueError, match='num_layers must be >= 1'):
        MLP(3, 5, 2, 0)


def test_inverse_sigmoid_clamps():
    x = torch.tensor([-0.5, 0.0, 0.5, 0.75, 1.0, 2.0])
    out = inverse_sigmoid(x)
    lo = math.log(1e-3 / 1)  # x clamped to 0, then numerator to eps
    hi = math.log(1 / 1e-3)
    assert out.tolist() == pytest.approx(
        [lo, lo, 0.0, math.log(3.0), hi, hi], abs=1e-5)
    torch.testing.assert_close(
        inverse_sigmoid(torch.sigmoid(torch.tensor([0.3, -1.2]))),
        torch.tensor([0.3, -1.2]))
