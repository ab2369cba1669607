# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.registry import MODELS


def test_hand_values():
    head = MODELS.build(dict(type='LinearSaliencyHead', embed_dim=3))
    with torch.no_grad():
        head.proj.weight.copy_(torch.tensor([[1., -2., 0.5]]))
        head.proj.bias.fill_(0.25)
    m = torch.tensor([[[1., 1., 2.], [0., -1., 0.]]])
    # 1 - 2 + 1 + 0.25 = 0.25; 0 + 2 + 0 + 0.25 = 2.25
    assert head(m).tolist() == [pytest.approx([0.25, 2.25])]
