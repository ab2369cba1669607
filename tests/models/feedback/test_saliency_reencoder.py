# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.feedback import SaliencyReencoder
from mmmrhd.registry import MODELS


def test_weights_masked_or_official():
    s = torch.tensor([[0.0, math.log(3.0), 5.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    w = SaliencyReencoder().weights(s, mask)
    torch.testing.assert_close(w, torch.tensor([[0.25, 0.75, 0.0]]))
    w = SaliencyReencoder(official_compat=True).weights(s, mask)
    z = 1 + 3 + math.exp(5)
    torch.testing.assert_close(w, torch.tensor([[1 / z, 3 / z,
                                                 math.exp(5) / z]]))


def test_forward_adds_weighted_clips_then_encodes():
    part = MODELS.build(dict(type='SaliencyReencoder'))
    memory = torch.ones(1, 3, 2)
    clips = torch.tensor([[[4.0, 8.0], [4.0, 0.0], [1.0, 1.0]]])
    s = torch.tensor([[0.0, math.log(3.0), 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    calls = []

    def encode(x):
        calls.append(x)
        return 2 * x

    out = part(memory, clips, s, mask, encode)
    expected_in = torch.tensor([[[2.0, 3.0], [4.0, 1.0], [1.0, 1.0]]])
    torch.testing.assert_close(calls[0], expected_in)
    torch.testing.assert_close(out, 2 * expected_in)
    with pytest.raises(ValueError, match='do not match'):
        part(memory, clips, s[:, :2], mask, encode)
