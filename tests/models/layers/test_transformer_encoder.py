# Copyright (c) mmmrhd contributors. All rights reserved.
import torch
from torch import nn

from mmmrhd.models.layers import TransformerEncoder


def test_post_norm_layer_matches_formula_and_masks_keys():
    torch.manual_seed(0)
    enc = TransformerEncoder(1, embed_dim=8, num_heads=2, ffn_dim=16).eval()
    layer = enc.layers[0]
    assert isinstance(layer.activation, nn.PReLU)
    ref = nn.MultiheadAttention(8, 2).eval()
    ref.load_state_dict(layer.self_attn.state_dict())
    x, pos = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    mask = torch.tensor([[1., 1., 1., 0., 0.], [1., 1., 1., 1., 1.]])
    out = enc(x, mask, pos)
    qk = (x + pos).transpose(0, 1)
    attn = ref(
        qk, qk, x.transpose(0, 1),
        key_padding_mask=~mask.bool())[0].transpose(0, 1)
    h = layer.norm1(x + attn)
    expected = layer.norm2(h +
                           layer.linear2(layer.activation(layer.linear1(h))))
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
    # Padded clips do not influence valid ones.
    x2 = x.clone()
    x2[0, 3:] = 50.0
    torch.testing.assert_close(enc(x2, mask, pos)[0, :3], out[0, :3])
