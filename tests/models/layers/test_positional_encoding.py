# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.layers import (LearnedPositionalEncoding,
                                  SinePositionalEncoding1D,
                                  ZeroPositionalEncoding, span_sine_embedding)


def test_sine_pe_hand_values_and_padding():
    pe = SinePositionalEncoding1D(dim=4)
    mask = torch.tensor([[1., 1., 0.]])
    out = pe(torch.zeros(1, 3, 7), mask)
    assert out.shape == (1, 3, 4)
    # positions cumsum / (last + 1e-6) * 2pi: [1, 2, 2] / 2; padded clip
    # gets the last valid position (quirk 7). Divisors [1, 1, 100, 100].
    for i, c in enumerate([1, 2, 2]):
        p = c / (2 + 1e-6) * 2 * math.pi
        expected = [
            math.sin(p),
            math.cos(p),
            math.sin(p / 100),
            math.cos(p / 100)
        ]
        assert out[0, i].tolist() == pytest.approx(expected, abs=1e-6)
    torch.testing.assert_close(out[0, 2], out[0, 1])


def test_sine_pe_rejects_odd_dim():
    with pytest.raises(ValueError, match='dim must be even'):
        SinePositionalEncoding1D(dim=5)


def test_zero_pe():
    x = torch.randn(2, 3, 5)
    out = ZeroPositionalEncoding()(x, torch.ones(2, 3))
    assert out.shape == (2, 3, 5) and out.abs().sum() == 0
    assert ZeroPositionalEncoding(dim=4)(x, None).shape == (2, 3, 4)


def test_learned_pe_is_layer_norm_of_input_plus_embedding():
    pe = LearnedPositionalEncoding(4, 6, dropout=0.0).eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6)
    expected = torch.nn.functional.layer_norm(x + pe.embed.weight[:3], (6, ),
                                              pe.norm.weight, pe.norm.bias)
    torch.testing.assert_close(pe(x), expected)
    assert [n for n, _ in pe.named_parameters()
            ] == ['embed.weight', 'norm.weight', 'norm.bias']
    with pytest.raises(ValueError, match='length 5 exceeds num_positions 4'):
        pe(torch.randn(1, 5, 6))


def test_span_sine_embedding_hand_values():
    spans = torch.tensor([[0.25, 0.5]])
    out = span_sine_embedding(spans, dim=8)  # 4 channels per coordinate
    assert out.shape == (1, 8)
    expected = []
    for v in (0.25, 0.5):
        p = v * 2 * math.pi
        expected += [
            math.sin(p),
            math.cos(p),
            math.sin(p / 100),
            math.cos(p / 100)
        ]
    assert out[0].tolist() == pytest.approx(expected, abs=1e-6)
