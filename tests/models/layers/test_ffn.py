# Copyright (c) mmmrhd contributors. All rights reserved.
"""PReLUFFNMixin: official parameter names, FFN maths, init order."""
import torch
import torch.nn.functional as F
from torch import nn

from mmmrhd.models.layers import PReLUFFNMixin, PostNormEncoderLayer


class _Layer(PReLUFFNMixin, nn.Module):

    def __init__(self, dropout=0.0):
        super().__init__()
        self.init_ffn(6, 10, dropout)


def test_ffn_maths_and_keys():
    torch.manual_seed(0)
    layer = _Layer()
    assert list(layer.state_dict()) == [
        'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
        'activation.weight'
    ]
    x = torch.randn(2, 3, 6)
    hidden = x @ layer.linear1.weight.T + layer.linear1.bias
    hidden = torch.where(hidden > 0, hidden, 0.25 * hidden)  # PReLU init
    expected = hidden @ layer.linear2.weight.T + layer.linear2.bias
    torch.testing.assert_close(layer.ffn(x), expected)


def test_linear_init_order_is_linear1_then_linear2():
    torch.manual_seed(3)
    layer = _Layer()
    torch.manual_seed(3)
    linear1, linear2 = nn.Linear(6, 10), nn.Linear(10, 6)
    assert torch.equal(layer.linear1.weight, linear1.weight)
    assert torch.equal(layer.linear2.weight, linear2.weight)


def test_train_mode_dropout_and_encoder_layer_use_it():
    torch.manual_seed(0)
    layer = _Layer(dropout=0.5).train()
    x = torch.randn(4, 50, 6)
    hidden = F.prelu(layer.linear1(x), layer.activation.weight)
    # dropped hidden units contribute only the bias of linear2
    out = layer.ffn(x)
    assert not torch.allclose(out, layer.linear2(hidden))
    enc = PostNormEncoderLayer(8, 2, 16, 0.0)
    assert isinstance(enc, PReLUFFNMixin)
    assert enc.linear1.out_features == 16 and enc.linear2.in_features == 16
