# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmmrhd.models.feedback import SpanGRUFeedback, top1_clip_bounds
from mmmrhd.registry import MODELS


def _logits(top):
    """(B, Q=3, 2) logits whose most confident query is ``top[b]``."""
    logits = torch.zeros(len(top), 3, 2)
    for b, q in enumerate(top):
        logits[b, q, 0] = 3.0
    return logits


def test_top1_clip_bounds_hand_computed():
    spans = torch.tensor([[[0.5, 0.2], [0.25, 0.1], [0.9, 0.1]],
                          [[0.05, 0.2], [0.5, 1.0], [0.5, 0.5]]])
    # L = 10: sample 0 query 1 -> xx (0.2, 0.3) -> clips (2, 3);
    # sample 1 query 0 -> xx (-0.05, 0.15) -> floor(-0.5) = -1, floor(1.5) = 1
    bounds = top1_clip_bounds(_logits([1, 0]), spans, 10)
    assert bounds.tolist() == [[2, 3], [-1, 1]]
    assert bounds.dtype == torch.int64
    assert top1_clip_bounds(_logits([1, 0]), spans, 10,
                            sort=True).tolist() == [[2, 3], [-1, 1]]


def _fixed_gru(part):
    """GRU with zero weights: h_k = n (1 - z^k), z = 0.5, n = 0.5, so h
    counts the number of steps read."""
    with torch.no_grad():
        for name, p in part.gru.named_parameters():
            p.zero_()
        d = part.embed_dim
        # bias layout [r, z, n]: r = z = sigmoid(0) = 0.5, n = tanh(b)
        part.gru.bias_ih_l0[2 * d:] = torch.atanh(torch.tensor(0.5))


@pytest.mark.parametrize('compat', [False, True])
def test_gru_reads_slice_or_padding(compat):
    part = SpanGRUFeedback(embed_dim=2, official_compat=compat)
    _fixed_gru(part)
    feats = torch.randn(1, 6, 2)
    mask = torch.tensor([[1.0, 1, 1, 1, 0, 0]])
    h = part.summarize(feats, torch.tensor([[1, 2]]), mask)
    steps = 6 if compat else 2  # compat: GRU runs over all L positions
    expected = 0.5 * (1 - 0.5**steps)
    torch.testing.assert_close(h, torch.full((1, 2), expected))


def test_summarize_matches_gru_on_the_slice():
    torch.manual_seed(0)
    part = SpanGRUFeedback(embed_dim=4)
    feats = torch.randn(3, 7, 4)
    mask = torch.ones(3, 7)
    mask[1, 5:] = 0
    # bounds: inside; ed beyond the valid length (clamped to 4);
    # negative st (clamped to 0)
    bounds = torch.tensor([[2, 4], [3, 9], [-2, 1]])
    h = part.summarize(feats, bounds, mask)
    for b, (st, ed) in enumerate([(2, 4), (3, 4), (0, 1)]):
        _, ref = part.gru(feats[b:b + 1, st:ed + 1])
        torch.testing.assert_close(h[b], ref[-1, 0], atol=1e-6, rtol=1e-5)


def test_official_python_slicing():
    torch.manual_seed(0)
    part = SpanGRUFeedback(embed_dim=4, official_compat=True)
    feats = torch.randn(3, 7, 4)
    mask = torch.ones(3, 7)
    bounds = torch.tensor([[2, 4], [-2, 9], [-1, 1]])
    h = part.summarize(feats, bounds, mask)
    for b, (st, ed) in enumerate(bounds.tolist()):
        sl = feats[b, st:ed + 1]  # python slicing semantics
        padded = F.pad(sl, (0, 0, 0, 7 - sl.shape[0]))
        _, ref = part.gru(padded[None])
        torch.testing.assert_close(h[b], ref[-1, 0], atol=1e-6, rtol=1e-5)
    # [-1:2] on 7 clips is empty -> the GRU reads zeros only
    _, zeros_h = part.gru(torch.zeros(1, 7, 4))
    torch.testing.assert_close(h[2], zeros_h[-1, 0])


@pytest.mark.parametrize('compat', [False, True])
def test_forward_weights_and_memory(compat):
    torch.manual_seed(1)
    part = MODELS.build(
        dict(type='SpanGRUFeedback', embed_dim=4, official_compat=compat))
    assert part.similarity == ('dot' if compat else 'cosine')
    feats = torch.randn(2, 5, 4)
    memory = torch.randn(2, 5, 4, requires_grad=True)
    mask = torch.tensor([[1.0] * 5, [1.0, 1, 1, 0, 0]])
    spans = torch.tensor([[[0.5, 0.4]] * 3, [[0.3, 0.2]] * 3])
    logits = _logits([0, 2])
    out, weight = part(logits, spans, feats, memory, mask)
    bounds = top1_clip_bounds(logits, spans, 5)
    h = part.summarize(feats, bounds, mask)
    if compat:
        ref_w = torch.einsum('bd,bld->bl', h, feats)
    else:
        ref_w = F.cosine_similarity(h[:, None], feats, dim=-1) * mask
        assert weight.abs().max().item() <= 1.0 + 1e-6
        assert weight[1, 3:].abs().max().item() == 0.0
    torch.testing.assert_close(weight, ref_w, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, memory * (1 + ref_w[..., None]),
                               atol=1e-6, rtol=1e-5)
    out.sum().backward()  # differentiable through the GRU
    assert part.gru.weight_hh_l0.grad.abs().sum() > 0


def test_errors():
    with pytest.raises(ValueError, match='similarity must be one of'):
        SpanGRUFeedback(4, similarity='l2')
    part = SpanGRUFeedback(4)
    with pytest.raises(ValueError, match='must have equal shapes'):
        part(_logits([0]), torch.rand(1, 3, 2), torch.randn(1, 5, 4),
             torch.randn(1, 6, 4), torch.ones(1, 5))
