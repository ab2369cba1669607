# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.heads import QuerySaliencyHead
from mmmrhd.registry import MODELS


def _eye(head, b1=0.0, b2=0.0):
    d = head.embed_dim
    with torch.no_grad():
        head.proj1.weight.copy_(torch.eye(d))
        head.proj1.bias.fill_(b1)
        if head.proj2 is not None:
            head.proj2.weight.copy_(2 * torch.eye(d))
            head.proj2.bias.fill_(b2)
    return head


def test_query_dependent_hand_values():
    head = _eye(QuerySaliencyHead(4), b1=1.0, b2=0.0)
    m = torch.tensor([[[1., 0., 0., 0.], [3., 1., 2., 0.]]])
    g = torch.tensor([[1., 1., 0., -1.]])
    # W1 m + 1 = [2,1,1,1], [4,2,3,1]; W2 g = [2,2,0,-2]; divided by sqrt(4):
    # (4 + 2 + 0 - 2) / 2 = 2 and (8 + 4 + 0 - 2) / 2 = 5
    assert head(m, g)[0].tolist() == pytest.approx([2.0, 5.0])


def test_sum_variant_hand_values():
    head = _eye(MODELS.build(
        dict(type='QuerySaliencyHead', embed_dim=4, with_global=False)),
        b1=0.5)
    assert head.proj2 is None
    m = torch.tensor([[[1., 2., 3., 4.], [0., 0., 0., -4.]]])
    # (sum(m) + 4 * 0.5) / 2
    assert head(m)[0].tolist() == pytest.approx([6.0, -1.0])


def test_matches_official_formula_random():
    torch.manual_seed(0)
    head = QuerySaliencyHead(16)
    m, g = torch.randn(3, 7, 16), torch.randn(3, 16)
    ref = torch.sum(head.proj1(m) * head.proj2(g).unsqueeze(1), -1) / 4.0
    assert torch.equal(head(m, g), ref)


def test_errors():
    head = QuerySaliencyHead(4)
    with pytest.raises(ValueError, match='needs the encoded global token'):
        head(torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match='must be \\(B, d\\)'):
        head(torch.zeros(1, 2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match='takes no global token'):
        QuerySaliencyHead(4, with_global=False)(torch.zeros(1, 2, 4),
                                                torch.zeros(1, 4))
