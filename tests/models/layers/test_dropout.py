# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmmrhd.models.layers import Dropout, dropout


def _words(n_words):
    """The CPU bit source: PCG64 seeded by one draw from torch's generator."""
    seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
    return torch.from_numpy(
        np.random.PCG64(seed).random_raw(n_words).view(np.int64))


def test_identity_in_eval_and_for_p0():
    x = torch.randn(4, 5)
    assert dropout(x, 0.3, training=False) is x
    assert dropout(x, 0.0, training=True) is x
    module = Dropout(0.3).eval()
    assert module(x) is x


def test_mask_is_an_integer_threshold_on_random_words():
    x = torch.randn(64, 33)
    n = x.numel()
    torch.manual_seed(3)
    out = dropout(x, 0.1)
    torch.manual_seed(3)
    words = _words((4 * n + 7) // 8)
    # float32(0.9) = 15099494 * 2**-24, i.e. 3865470464 * 2**-32.
    keep = words.view(torch.int32)[:n].view(64, 33) < 3865470464 - 2**31
    noise = keep.float().div_(0.9)  # F.dropout's noise arithmetic
    assert torch.equal(out, x * noise)
    assert torch.equal(out == 0, ~keep | (x == 0))
    # p = 0.5: one byte per element, kept iff its sign bit is 0.
    torch.manual_seed(4)
    half = dropout(x, 0.5)
    torch.manual_seed(4)
    byte = _words((n + 7) // 8).view(torch.int8)[:n].view(64, 33)
    assert torch.equal(half, x * (byte >= 0).float().mul_(2.0))


def test_keep_mask_probability_is_float32_exact():
    # keep * 2**32 is an integer for every float32 keep >= 2**-8, so the
    # threshold count equals float32(keep) * 2**32 exactly.
    for keep in (0.9, 0.75, 0.3, 2.0**-8):
        keep32 = torch.tensor(keep, dtype=torch.float32).item()
        assert (keep32 * 2**32).is_integer()
    # Below 2**-8 keep probability F.dropout itself is used.
    x = torch.randn(4000)
    torch.manual_seed(6)
    a = dropout(x, 1 - 2.0**-9)
    torch.manual_seed(6)
    assert torch.equal(a, F.dropout(x, 1 - 2.0**-9, True))


@pytest.mark.parametrize('p', [0.1, 0.5, 0.7])
def test_keep_rate(p):
    torch.manual_seed(0)
    out = dropout(torch.ones(1_000_000), p)
    rate = float((out != 0).float().mean())
    sigma = (p * (1 - p) / 1e6)**0.5
    assert abs(rate - (1 - p)) < 5 * sigma
    # Kept values are scaled exactly like F.dropout: 1 / float32(1 - p).
    scale = torch.ones(1).div_(1 - p)
    assert torch.equal(out.unique(), torch.cat([torch.zeros(1), scale]))


def test_gradient_is_the_noise():
    torch.manual_seed(1)
    x = torch.randn(50, 20, requires_grad=True)
    out = dropout(x, 0.5)
    out.sum().backward()
    kept = out.detach() != 0
    assert torch.equal(x.grad, kept.float() * 2.0)


def test_inplace_and_fallback_dtypes():
    torch.manual_seed(2)
    x = torch.randn(10, 10)
    y = x.clone()
    out = dropout(y, 0.5, inplace=True)
    assert out is y and set((out / x).round().unique().tolist()) <= {0., 2.}
    # float64 (and other devices) use F.dropout itself.
    x64 = torch.randn(30, 30, dtype=torch.float64)
    torch.manual_seed(5)
    a = dropout(x64, 0.2)
    torch.manual_seed(5)
    assert torch.equal(a, F.dropout(x64, 0.2, True))
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))


def test_module_is_a_stateless_nn_dropout():
    module = Dropout(0.25)
    assert isinstance(module, nn.Dropout) and module.p == 0.25
    assert module.state_dict() == {}
    assert repr(module) == 'Dropout(p=0.25, inplace=False)'
    with pytest.raises(ValueError, match='between 0 and 1'):
        Dropout(1.5)


def test_dropout_noise_paths():
    """CPU float32: the mask dropout draws (same stream), scaled by
    1 / (1 - p); p = 1: zeros; float64: bernoulli, values in {0, 1/(1-p)}."""
    from mmmrhd.models.layers.dropout import dropout_noise, keep_mask
    torch.manual_seed(4)
    noise = dropout_noise((3, 50), 0.2, torch.float32, torch.device('cpu'))
    torch.manual_seed(4)
    expected = keep_mask(torch.empty(3, 50), 0.8).float() / 0.8
    assert torch.equal(noise, expected)
    torch.manual_seed(4)
    x = torch.randn(3, 50)
    torch.manual_seed(4)
    assert torch.equal(dropout(x, 0.2), x * noise)
    assert torch.equal(
        dropout_noise((4, ), 1.0, torch.float32, torch.device('cpu')),
        torch.zeros(4))
    dbl = dropout_noise((2000, ), 0.5, torch.float64, torch.device('cpu'))
    assert dbl.dtype == torch.float64
    assert set(dbl.unique().tolist()) == {0.0, 2.0}
    assert 0.4 < float((dbl > 0).double().mean()) < 0.6
