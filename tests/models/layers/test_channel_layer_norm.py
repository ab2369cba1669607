# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.layers import ChannelLayerNorm


def test_channel_layer_norm_hand_values():
    norm = ChannelLayerNorm(2, eps=0.0)
    assert norm.weight.shape == (1, 2, 1) and norm.bias.shape == (1, 2, 1)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([2., 3.]).view(1, 2, 1))
        norm.bias.copy_(torch.tensor([1., -1.]).view(1, 2, 1))
    # One sample, channels (1, 3) at t=0 and (5, 5) at t=1.
    x = torch.tensor([[[1., 5.], [3., 5.]]])
    out = norm(x)
    # t=0: mean 2, var 1 -> (-1, 1) -> (2*-1+1, 3*1-1) = (-1, 2)
    assert out[0, :, 0].tolist() == pytest.approx([-1.0, 2.0])
    # t=1: var 0 with eps 0 -> nan; use eps for the constant column
    norm.eps = 1e-5
    assert norm(x)[0, :, 1].tolist() == pytest.approx([1.0, -1.0])


def test_channel_layer_norm_shape_error():
    with pytest.raises(ValueError, match=r'expected \(B, 4, T\)'):
        ChannelLayerNorm(4)(torch.randn(2, 3, 5))
