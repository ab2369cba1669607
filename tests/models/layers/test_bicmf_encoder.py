# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.layers import BiCMFEncoder, official_t2v_attn_mask


def _ln(xs, eps=1e-5):
    m = sum(xs) / len(xs)
    var = sum((x - m)**2 for x in xs) / len(xs)
    return [(x - m) / math.sqrt(var + eps) for x in xs]


def _prelu(xs, a=0.25):
    return [x if x > 0 else a * x for x in xs]


def _transparent(official_compat):
    """d=4, 1 head: linear1-3 output zero, linear4/linear5 identity, so
    V' = LN1(V), C = LN3(V'), f = PReLU(C)."""
    enc = BiCMFEncoder(
        num_layers=1,
        embed_dim=4,
        num_heads=1,
        ffn_dim=4,
        dropout=0.0,
        official_compat=official_compat).eval()
    layer = enc.layers[0]
    with torch.no_grad():
        for lin in (layer.linear1, layer.linear2, layer.linear3):
            lin.weight.zero_()
            lin.bias.zero_()
        for lin in (layer.linear4, layer.linear5):
            lin.weight.copy_(torch.eye(4))
            lin.bias.zero_()
        layer.activation.weight.fill_(0.25)
    return enc


def _run(enc, video):
    text = torch.randn(1, 3, 4)
    vmask, tmask = torch.ones(1, video.shape[1]), torch.ones(1, 3)
    return enc(video, text, vmask, tmask, torch.zeros_like(video))


@pytest.mark.parametrize('compat', [False, True])
def test_hand_computed_ffn_residual(compat):
    video = torch.tensor([[[1., 2., 3., 4.]]])
    out = _run(_transparent(compat), video)[0, 0].tolist()
    c = _ln(_ln([1., 2., 3., 4.]))
    f = _prelu(c)
    # paper: LN4(C + f); official: LN4(f + f) (missing residual, quirk 17)
    want = _ln([2 * x for x in f]) if compat else _ln(
        [a + b for a, b in zip(c, f)])
    assert out == pytest.approx(want, abs=1e-5)
    # the two modes really differ: [-1.0366, -0.6911, 0.1728, 1.5549] vs
    # LN([-1.677, -0.559, 0.894, 2.683])
    assert _ln([2 * x for x in f])[0] == pytest.approx(-1.0366, abs=1e-4)


def test_text_passes_unchanged_and_padding_ignored():
    torch.manual_seed(0)
    enc = BiCMFEncoder(
        num_layers=2, embed_dim=8, num_heads=2, ffn_dim=16).eval()
    video, text = torch.randn(2, 5, 8), torch.randn(2, 4, 8)
    vmask = torch.tensor([[1., 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    tmask = torch.tensor([[1., 1, 0, 0], [1, 1, 1, 1]])
    pos = torch.randn(2, 5, 8)
    out = enc(video, text, vmask, tmask, pos)
    text2 = text.clone()
    text2[0, 2:] = 100.0  # padded tokens of sample 0
    video2 = video.clone()
    video2[1, 3:] = -50.0  # padded clips of sample 1
    out2 = enc(video2, text2, vmask, tmask, pos)
    torch.testing.assert_close(out2[0], out[0])
    torch.testing.assert_close(out2[1, :3], out[1, :3])


def test_official_masks_and_norm2_usage():
    enc = BiCMFEncoder(num_layers=1, embed_dim=8, num_heads=2,
                       official_compat=True)
    vmask = torch.tensor([[1., 1, 1], [1, 0, 0]])
    tmask = torch.tensor([[1., 1], [1, 0]])
    v2t, t2v = enc.build_attn_masks(vmask, tmask)
    assert torch.equal(v2t, official_t2v_attn_mask(vmask, tmask, 2))
    assert torch.equal(t2v, official_t2v_attn_mask(tmask, vmask, 2))
    assert v2t.shape == (2, 2, 3, 2) and t2v.shape == (2, 2, 2, 3)
    # norm2 exists in both modes (checkpoints) but is unused officially
    video = torch.randn(2, 3, 8, requires_grad=True)
    enc(video, torch.randn(2, 2, 8), vmask, tmask,
        torch.zeros(2, 3, 8)).sum().backward()
    assert enc.layers[0].norm2.weight.grad is None
    default = BiCMFEncoder(num_layers=1, embed_dim=8, num_heads=2)
    default(video, torch.randn(2, 2, 8), vmask, tmask,
            torch.zeros(2, 3, 8)).sum().backward()
    assert default.layers[0].norm2.weight.grad is not None
    v2t, t2v = default.build_attn_masks(vmask, tmask)
    assert v2t.shape == (2, 1, 1, 2) and t2v.shape == (2, 1, 1, 3)


def test_bad_num_layers():
    with pytest.raises(ValueError, match='num_layers must be >= 1'):
        BiCMFEncoder(num_layers=0)
