# Copyright (c) mmmrhd contributors. All rights reserved.
import torch
from torch import nn

from mmmrhd.models.layers import (T2VEncoder, key_padding_to_attn_mask,
                                  official_t2v_attn_mask)


def test_official_mask_reproduces_repeat_layout():
    # B=2, H=3: the official (H*B, Lv, Lt) mask row b*H+h belongs to
    # sample (b*H+h) % B.
    vmask = torch.tensor([[1., 1., 0.], [1., 1., 1.]])
    tmask = torch.tensor([[1., 0.], [1., 1.]])
    allowed = official_t2v_attn_mask(vmask, tmask, 3)
    assert allowed.shape == (2, 3, 3, 2)
    pad_v, pad_t = ~vmask.bool(), ~tmask.bool()
    block = (pad_v[:, :, None].float() @ pad_t[:, None, :].float()).bool()
    official = block.repeat(3, 1, 1)  # what the release passes
    for b in range(2):
        for h in range(3):
            blocked = official[b * 3 + h] | pad_t[b][None]
            assert torch.equal(allowed[b, h], ~blocked)
    # Sample 1 has no padding, yet heads 0 and 2 (rows 3, 5 -> sample 1),
    # head 1 (row 4 -> sample 0) gets sample 0's block: clip 2 x token 1.
    assert not allowed[1, 1, 2, 1] and allowed[1, 0, 2, 1]


def test_default_mask_is_key_padding():
    enc = T2VEncoder(1, embed_dim=8, num_heads=2, ffn_dim=16)
    tmask = torch.tensor([[1., 0.]])
    assert torch.equal(
        enc.build_attn_mask(torch.ones(1, 3), tmask),
        key_padding_to_attn_mask(tmask))


def test_layer_matches_official_formula():
    torch.manual_seed(0)
    enc = T2VEncoder(1, embed_dim=8, num_heads=2, ffn_dim=16).eval()
    layer = enc.layers[0]
    ref = nn.MultiheadAttention(8, 2).eval()
    ref.load_state_dict(layer.cross_attn.state_dict())
    video, text = torch.randn(2, 4, 8), torch.randn(2, 3, 8)
    vpos = torch.randn(2, 4, 8)
    vmask, tmask = torch.ones(2, 4), torch.tensor([[1., 1., 0.], [1., 1., 1.]])
    out = enc(video, text, vmask, tmask, vpos, torch.zeros(2, 3, 8))
    attn = ref(
        (video + vpos).transpose(0, 1),
        text.transpose(0, 1),
        text.transpose(0, 1),
        key_padding_mask=~tmask.bool())[0].transpose(0, 1)
    y = video + attn
    z = layer.linear2(layer.activation(layer.linear1(layer.norm1(y))))
    expected = layer.norm2(y + z)  # FFN residual adds the pre-LN1 sum
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
