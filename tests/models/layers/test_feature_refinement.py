# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.layers import FeatureRefinement
from mmmrhd.models.layers.feature_refinement import PAD_LOG


def _fr(compat):
    fr = FeatureRefinement(
        embed_dim=2, dropout=0.0, official_compat=compat).eval()
    with torch.no_grad():
        fr.cor_v_w.copy_(torch.tensor([[1., 2.]]))
        fr.cor_q_w.fill_(3.0)
    return fr


def test_correlation_default_is_masked_word_attention():
    fr = _fr(False)
    video = torch.tensor([[[1., 0.]]])
    text = torch.tensor([[[1., 0.], [0., 1.]]])
    # a = softmax([<v,q1>, <v,q2>]) = softmax([1, 0]); c*u = [3, 6]
    a1 = math.e / (math.e + 1)
    want = [a1 * 3, (1 - a1) * 6]  # sum_j a_j (c u * q_j)
    got = fr.correlation(video, text, torch.ones(1, 2))[0, 0].tolist()
    assert got == pytest.approx(want, abs=1e-6)
    assert want == pytest.approx([2.1932, 1.6136], abs=1e-4)
    # the padded word is ignored
    got = fr.correlation(video, text, torch.tensor([[1., 0.]]))[0, 0]
    assert got.tolist() == pytest.approx([3.0, 0.0], abs=1e-6)


def test_correlation_official_is_input_independent():
    fr = _fr(True)
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        video, text = torch.randn(2, 5, 2, generator=g), torch.randn(
            2, 4, 2, generator=g)
        corr = fr.correlation(video, text, torch.ones(2, 4))
        torch.testing.assert_close(corr, torch.tensor([3., 6.]).expand(
            2, 5, 2))


@pytest.mark.parametrize('compat', [False, True])
def test_similarity_branch_hand_computed(compat):
    fr = _fr(compat)
    with torch.no_grad():
        fr.sim_w.copy_(torch.tensor([[1.], [-1.]]))
        fr.sentence_pool.weight.zero_()  # uniform pooling over valid words
        fr.mixer.weight.zero_()
        fr.mixer.bias.zero_()
        fr.mixer.weight[:, 2:4] = torch.eye(2)  # select the sim block
    video = torch.tensor([[[1., 0.], [1., 1.], [5., 5.]]])
    text = torch.tensor([[[0., 2.], [2., 0.], [9., 9.]]])
    vmask = torch.tensor([[1., 1., 0.]])
    tmask = torch.tensor([[1., 1., 0.]])
    out = fr(video, text, vmask, tmask)[0]
    # sentence = mean of the valid words = [1, 1]
    # cos([1,0],[1,1]) = 1/sqrt(2); cos([1,1],[1,1]) = 1
    # out = relu(sim * [1, -1])
    s0 = 1 / math.sqrt(2)
    assert out[0].tolist() == pytest.approx([s0, 0.0], abs=1e-6)
    assert out[1].tolist() == pytest.approx([1.0, 0.0], abs=1e-6)
    # padded clip: official adds log(1e-45) ~ -103.28 -> relu([-102.28,..])
    pad = 1.0 + PAD_LOG if compat else 0.0
    assert out[2].tolist() == pytest.approx(
        [max(pad, 0.0), max(-pad, 0.0)], abs=1e-4)
    assert PAD_LOG == pytest.approx(-103.2789, abs=1e-3)


def test_shape_error():
    fr = FeatureRefinement(embed_dim=4)
    with pytest.raises(ValueError, match='must end with d=4'):
        fr(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4), torch.ones(1, 2),
           torch.ones(1, 2))
