# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch
from torch import nn

from mmmrhd.models.layers import (MultiheadAttention, ProjectionFreeAttention,
                                  key_padding_to_attn_mask,
                                  multi_head_attention)
from mmmrhd.models.layers.dropout import keep_mask


def _reference_attention(q, k, v, num_heads, allowed, scale):
    """Per-head softmax(q k^T * scale) v, written out with explicit loops."""
    b, lq, e = q.shape
    ev = v.shape[-1]
    hd, hv = e // num_heads, ev // num_heads
    out = torch.zeros(b, lq, ev, dtype=torch.float64)
    for i in range(b):
        for h in range(num_heads):
            qh = q[i, :, h * hd:(h + 1) * hd].double()
            kh = k[i, :, h * hd:(h + 1) * hd].double()
            vh = v[i, :, h * hv:(h + 1) * hv].double()
            logits = qh @ kh.T * scale
            if allowed is not None:
                logits = logits.masked_fill(~allowed[i], float('-inf'))
            out[i, :, h * hv:(h + 1) * hv] = logits.softmax(-1) @ vh
    return out


def test_multi_head_attention_matches_explicit_heads():
    torch.manual_seed(0)
    q, k = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    v = torch.randn(2, 5, 4)  # value width differs from query width
    valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1.]])
    out = multi_head_attention(q, k, v, 2, key_padding_to_attn_mask(valid))
    allowed = valid.bool()[:, None, :].expand(2, 3, 5)
    ref = _reference_attention(q, k, v, 2, allowed, 1 / math.sqrt(4))
    assert out.shape == (2, 3, 4)
    torch.testing.assert_close(out.double(), ref, atol=1e-6, rtol=1e-5)
    # Padded keys do not matter.
    k2, v2 = k.clone(), v.clone()
    k2[0, 3:] = 100.0
    v2[0, 3:] = -7.0
    out2 = multi_head_attention(q, k2, v2, 2, key_padding_to_attn_mask(valid))
    torch.testing.assert_close(out2[0], out[0])


def test_key_padding_to_attn_mask_layout():
    mask = key_padding_to_attn_mask(torch.tensor([[1., 0.], [1., 1.]]))
    assert mask.shape == (2, 1, 1, 2) and mask.dtype == torch.bool
    assert mask.flatten().tolist() == [True, False, True, True]


def test_multihead_attention_equals_torch_module():
    torch.manual_seed(1)
    ref = nn.MultiheadAttention(16, 4).eval()
    ours = MultiheadAttention(16, 4).eval()
    assert set(ours.state_dict()) == set(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    q, k, v = torch.randn(3, 6, 16), torch.randn(3, 4,
                                                 16), torch.randn(3, 4, 16)
    pad = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 0], [0, 1, 1, 1]]).bool()
    expected = ref(
        q.transpose(0, 1),
        k.transpose(0, 1),
        v.transpose(0, 1),
        key_padding_mask=pad)[0].transpose(0, 1)
    out = ours(q, k, v, key_padding_to_attn_mask(~pad))
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)


def test_multihead_attention_init_and_errors():
    attn = MultiheadAttention(8, 2)
    assert attn.in_proj_bias.abs().sum() == 0
    assert attn.out_proj.bias.abs().sum() == 0
    with pytest.raises(ValueError, match='not divisible by num_heads 3'):
        MultiheadAttention(8, 3)


def test_projection_free_attention():
    torch.manual_seed(2)
    attn = ProjectionFreeAttention(8, 2, value_dim=4).eval()
    assert [n for n, _ in attn.named_parameters()
            ] == ['out_proj.weight', 'out_proj.bias']
    assert attn.out_proj.bias.abs().sum() == 0
    assert attn.scale == pytest.approx(0.5)  # (8 / 2) ** -0.5
    q, k, v = torch.randn(1, 3, 8), torch.randn(1, 5, 8), torch.randn(1, 5, 4)
    heads = _reference_attention(q, k, v, 2, None, 0.5).float()
    torch.testing.assert_close(
        attn(q, k, v), attn.out_proj(heads), atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match='divisible by num_heads'):
        ProjectionFreeAttention(8, 3, value_dim=6)


def test_self_attention_packed_qk_equals_separate_inputs():
    torch.manual_seed(4)
    ref = nn.MultiheadAttention(16, 4).eval()
    ours = MultiheadAttention(16, 4).eval()
    ours.load_state_dict(ref.state_dict())
    x, v = torch.randn(2, 5, 16), torch.randn(2, 5, 16)
    mask = key_padding_to_attn_mask(torch.tensor([[1, 1, 1, 0, 0.]] * 2))
    packed = ours(x, x, v, mask)  # query is key: one (2E, E) projection
    separate = ours(x, x.clone(), v, mask)
    expected = ref(x.transpose(0, 1), x.transpose(0, 1), v.transpose(0, 1),
                   key_padding_mask=~mask[:, 0, 0])[0].transpose(0, 1)
    torch.testing.assert_close(packed, separate, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(packed, expected, atol=1e-6, rtol=1e-5)


def test_training_dropout_path_is_softmax_dropout_matmul():
    """Train-mode attention on the CPU: weights dropped with the mask of
    layers.dropout (same random stream), renormalised by 1 / (1 - p)."""
    torch.manual_seed(5)
    q, k, v = torch.randn(2, 3, 8), torch.randn(2, 4, 8), torch.randn(2, 4, 8)
    valid = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1.]])
    torch.manual_seed(9)
    out = multi_head_attention(q, k, v, 2, key_padding_to_attn_mask(valid),
                               dropout_p=0.5)
    torch.manual_seed(9)
    keep = keep_mask(torch.empty(2, 2, 3, 4), 0.5).double() * 2.0
    qh = q.double().view(2, 3, 2, 4).transpose(1, 2)
    kh = k.double().view(2, 4, 2, 4).transpose(1, 2)
    vh = v.double().view(2, 4, 2, 4).transpose(1, 2)
    logits = (qh @ kh.transpose(-2, -1) * 0.5).masked_fill(
        valid[:, None, None, :] == 0, float('-inf'))
    ref = ((logits.softmax(-1) * keep) @ vh).transpose(1, 2).reshape(2, 3, 8)
    torch.testing.assert_close(out.double(), ref, atol=1e-6, rtol=1e-5)
    # Without dropout the same inputs go through fused SDPA.
    no_drop = multi_head_attention(q, k, v, 2,
                                   key_padding_to_attn_mask(valid))
    ref0 = (logits.softmax(-1) @ vh).transpose(1, 2).reshape(2, 3, 8)
    torch.testing.assert_close(no_drop.double(), ref0, atol=1e-6, rtol=1e-5)


def test_dropped_attention_backward_matches_autograd():
    """The hand-written backward of the train-mode CPU path: gradcheck in
    float64 (masked keys, dropped weights), and float32 gradients equal to
    autograd's on the same math with the same masks."""
    from mmmrhd.models.layers.attention import _DroppedAttention
    torch.manual_seed(3)
    n_heads, b, lq, lk, d = 2, 2, 3, 4, 5
    q = torch.randn(b * n_heads, lq, d, dtype=torch.double,
                    requires_grad=True)
    k = torch.randn(b * n_heads, lk, d, dtype=torch.double,
                    requires_grad=True)
    v = torch.randn(b * n_heads, lk, d, dtype=torch.double,
                    requires_grad=True)
    valid = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1.]])
    bias = torch.zeros(b, 1, 1, lk, dtype=torch.double).masked_fill_(
        valid[:, None, None, :] == 0, float('-inf'))
    noise = (torch.rand(b * n_heads, lq, lk) > 0.3).double() / 0.7
    assert noise.eq(0).any()  # some weights are dropped
    assert torch.autograd.gradcheck(
        lambda q, k, v: _DroppedAttention.apply(q, k, v, bias, noise,
                                                n_heads), (q, k, v))

    # multi_head_attention's train path against autograd, same masks
    query, key = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    value = torch.randn(2, 4, 8)
    for t in (query, key, value):
        t.requires_grad_(True)
    mask = key_padding_to_attn_mask(valid)
    torch.manual_seed(9)
    out = multi_head_attention(query, key, value, 2, mask, dropout_p=0.5)
    grads = torch.autograd.grad(out.sum(), (query, key, value))
    torch.manual_seed(9)
    keep = keep_mask(torch.empty(2, 2, 3, 4), 0.5).float() * 2.0
    qh = query.view(2, 3, 2, 4).transpose(1, 2) * 0.5
    kh = key.view(2, 4, 2, 4).transpose(1, 2)
    vh = value.view(2, 4, 2, 4).transpose(1, 2)
    logits = (qh @ kh.transpose(-2, -1)).masked_fill(~mask, float('-inf'))
    ref = ((logits.softmax(-1) * keep) @ vh).transpose(1, 2).reshape(2, 3, 8)
    ref_grads = torch.autograd.grad(ref.sum(), (query, key, value))
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-5)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
