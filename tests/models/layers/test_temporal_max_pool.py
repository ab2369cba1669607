# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.layers import TemporalMaxPool


def _x():
    # one channel, 6 clips, the last two padded with large garbage
    return torch.tensor([[1., 4., 2., 3., 9., 8.]]).view(1, 6, 1)


def test_official_pool_runs_over_padding():
    pool = TemporalMaxPool(5, official_compat=True)
    mask = torch.tensor([[1., 1., 1., 1., 0., 0.]])
    out = pool(_x(), mask).flatten().tolist()
    # window [i-2, i+2], ends -inf padded; padded 9 leaks into clips 2, 3
    assert out == [4., 4., 9., 9., 9., 9.]


def test_masked_pool_ignores_padding_and_zeros_it():
    pool = TemporalMaxPool(5)
    mask = torch.tensor([[1., 1., 1., 1., 0., 0.]])
    out = pool(_x(), mask).flatten().tolist()
    assert out == [4., 4., 4., 4., 0., 0.]
    # without padding both modes agree
    full = torch.ones(1, 6)
    torch.testing.assert_close(
        pool(_x(), full),
        TemporalMaxPool(5, official_compat=True)(_x(), full))


def test_pool_kernel_error():
    with pytest.raises(ValueError, match='positive odd int'):
        TemporalMaxPool(4)
