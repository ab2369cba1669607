# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.heads import LightweightHDHead


def _identity_head(d=4, w=0.5, b=0.25):
    head = LightweightHDHead(d)
    with torch.no_grad():
        head.proj_linear.weight.copy_(torch.eye(d))
        head.proj_linear.bias.zero_()
        head.proj_local.weight.copy_(torch.eye(d)[..., None])
        head.proj_local.bias.zero_()
        head.output.weight.fill_(w)
        head.output.bias.fill_(b)
    return head


def test_eq2_hand_values():
    head = _identity_head()
    j = torch.tensor([[[1., 2., 3., 4.], [0., 0., 0., -2.]]])
    # D_HD(J) = 0.5 * sum(J) + 0.25; plus sum(J) / sqrt(4)
    assert head(j)[0].tolist() == pytest.approx(
        [0.5 * 10 + 0.25 + 10 / 2, 0.5 * -2 + 0.25 + -2 / 2])


def test_sum_term_on_other_features():
    head = _identity_head()
    j = torch.tensor([[[1., 2., 3., 4.]]])
    unmasked = torch.tensor([[[1., 1., 1., 1.]]])
    assert head(j, unmasked)[0].tolist() == pytest.approx(
        [0.5 * 10 + 0.25 + 4 / 2])


def test_general_weights_match_layers():
    torch.manual_seed(0)
    head = LightweightHDHead(8)
    x = torch.randn(2, 5, 8)
    h = head.proj_local(head.proj_linear(x).transpose(1, 2)).transpose(1, 2)
    expected = head.output(h)[..., 0] + x.sum(-1) / 8**0.5
    torch.testing.assert_close(head(x), expected)
