# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.feedback import HighlightToMask, MomentToMask
from mmmrhd.registry import TASK_UTILS


def test_h2m_default_mean_over_valid_clips():
    scores = torch.tensor([[1., 3., 2., 10.], [2., 2., 2., 2.]])
    mask = torch.tensor([[1., 1., 1., 0.], [1., 1., 1., 1.]])
    out = HighlightToMask()(scores, mask)
    # sample 0: mean of valid = 2 -> only 3 > 2; padded clip stays 0;
    # sample 1: strict comparison, nothing above the mean.
    assert out.tolist() == [[0., 1., 0., 0.], [0., 0., 0., 0.]]


def test_h2m_official_mean_includes_padding():
    scores = torch.tensor([[1., 3., 2., 10.]], requires_grad=True)
    mask = torch.tensor([[1., 1., 1., 0.]])
    out = TASK_UTILS.build(dict(type='HighlightToMask',
                                official_compat=True))(scores, mask)
    # mean over all 4 positions = 4 -> only the padded 10 is marked
    assert out.tolist() == [[0., 0., 0., 1.]]
    assert not out.requires_grad


def test_m2m_default_clip_grid():
    spans = torch.tensor(
        [[[0.25, 0.5], [0.875, 0.25]], [[0.5, 0.5], [0.5, 0.5]]],
        requires_grad=True)
    mask = torch.tensor([[1., 1., 1., 1., 0.], [1., 1., 1., 1., 1.]])
    out = MomentToMask()(spans, mask)
    assert not out.requires_grad
    # sample 0 (n=4): [0, .5] -> clips 0..2; [.75, 1] -> clip 3 (clamped)
    assert out[0].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5, 0.0])
    # sample 1 (n=5): [.25, .75] * 5 = [1.25, 3.75] -> clips 1..3, twice
    assert out[1].tolist() == pytest.approx(
        [0, 1 / math.sqrt(3), 1 / math.sqrt(3), 1 / math.sqrt(3), 0])


def test_m2m_official_150s_grid():
    spans = torch.tensor([[[0.5, 0.02], [0.0, 0.1]]])
    out = MomentToMask(official_compat=True)(spans, torch.ones(1, 75))
    expected = torch.zeros(75)
    expected[0:4] = 1.0  # [-7.5, 7.5] s -> clamp/int [0, 7] -> clips 0..3
    expected[36], expected[37], expected[38] = 0.5, 1.0, 0.5  # [73, 76] s
    expected /= math.sqrt(5.5)
    torch.testing.assert_close(out[0], expected)


def test_m2m_official_needs_75_clips():
    with pytest.raises(ValueError) as err:
        MomentToMask(official_compat=True)(torch.rand(1, 2, 2),
                                           torch.ones(1, 60))
    assert 'needs L == 75 clips' in str(err.value)
    assert 'got L=60' in str(err.value)


def test_converter_input_errors():
    with pytest.raises(ValueError, match='do not match'):
        HighlightToMask()(torch.rand(2, 4), torch.ones(3, 4))
    with pytest.raises(ValueError, match='not a multiple'):
        MomentToMask(official_duration=151)
