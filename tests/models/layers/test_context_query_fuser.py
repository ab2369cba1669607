# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmmrhd.models.layers import (CQAttention, CQConcatenate,
                                  ContextQueryFuser)
from mmmrhd.registry import MODELS


def _cqa_d1():
    """d = 1, S_ij = c_i (w_C = 1, w_Q = w_m = 0), fc sums its 4 inputs."""
    cqa = CQAttention(1, dropout=0.0)
    with torch.no_grad():
        cqa.w4C.fill_(1.0)
        cqa.w4Q.zero_()
        cqa.w4mlu.zero_()
        cqa.fc.weight.fill_(1.0)
        cqa.fc.bias.zero_()
    return cqa


def test_cq_attention_hand_computed():
    cqa = _cqa_d1()
    c = torch.tensor([[[1.0], [2.0]]])
    q = torch.tensor([[[1.0], [-1.0]]])
    ones = torch.ones(1, 2)
    # S_r rows are uniform -> c2q = 0; S_c = softmax((1, 2)) per token ->
    # q2c = (1 + 2e) / (1 + e); out = c + 0 + 0 + c * q2c
    m = (1 + 2 * math.e) / (1 + math.e)
    out = cqa(c, q, ones, ones)
    torch.testing.assert_close(out, torch.tensor([[[1 + m], [2 + 2 * m]]]))
    # clip 2 masked: S_c = (1, 0) -> q2c = 1
    out = cqa(c, q, torch.tensor([[1.0, 0.0]]), ones)
    torch.testing.assert_close(out, torch.tensor([[[2.0], [4.0]]]))
    # token 2 masked: S_r = (1, 0) -> c2q = q_1 = 1: out = c + 1 + c + c m
    out = cqa(c, q, ones, torch.tensor([[1.0, 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[[3 + m], [5 + 2 * m]]]))


def test_cq_attention_scores_are_trilinear():
    torch.manual_seed(0)
    cqa = CQAttention(4, dropout=0.0)
    c, q = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    s = cqa.scores(c, q)
    ref = torch.einsum('bld,d->bl', c, cqa.w4C[:, 0])[..., None] + \
        torch.einsum('btd,d->bt', q, cqa.w4Q[:, 0])[:, None] + \
        torch.einsum('bld,d,btd->blt', c, cqa.w4mlu[0, 0], q)
    torch.testing.assert_close(s, ref, atol=1e-6, rtol=1e-5)


def test_cq_concatenate_and_fuser():
    torch.manual_seed(0)
    cat = CQConcatenate(4)
    c, q = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    qm = torch.tensor([[1.0] * 5, [1.0, 1, 0, 0, 0]])
    pooled = cat.weighted_pool(q, qm)
    ref = cat.fc(torch.cat([c, pooled[:, None].expand(-1, 3, -1)], -1))
    torch.testing.assert_close(cat(c, q, qm), ref)

    fuser = MODELS.build(dict(type='ContextQueryFuser', embed_dim=4))
    fuser.eval()
    vm = torch.tensor([[1.0, 1, 1], [1.0, 1, 0]])
    out = fuser(c, q, vm, qm)
    ref = F.relu(
        fuser.cq_concat(fuser.cq_attention(c, q, vm, qm), q, qm))
    torch.testing.assert_close(out, ref)
    assert out.min().item() >= 0
    with pytest.raises(ValueError, match='must have width 4'):
        fuser(torch.randn(2, 3, 5), q, vm, qm)


def test_fuser_parameter_count_is_official():
    # models.md §4.6: fuser 394,752 at d = 256
    fuser = ContextQueryFuser(256)
    assert sum(p.numel() for p in fuser.parameters()) == 394752


def test_dropout_only_in_training():
    torch.manual_seed(0)
    cqa = CQAttention(8, dropout=0.5)
    c, q = torch.randn(1, 3, 8), torch.randn(1, 2, 8)
    cqa.eval()
    torch.testing.assert_close(cqa.scores(c, q), cqa.scores(c, q))
    cqa.train()
    assert not torch.equal(cqa.scores(c, q), cqa.scores(c, q))
