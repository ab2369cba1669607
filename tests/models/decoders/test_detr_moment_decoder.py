# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmmrhd.models.decoders import DETRDecoderLayer, DETRMomentDecoder
from mmmrhd.registry import MODELS


def _torch_mha(ours, d, h):
    """nn.MultiheadAttention holding the same weights as our attention."""
    ref = nn.MultiheadAttention(d, h, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    return ref.eval()


def _reference_layer(layer, tgt, qpos, mem, mpos, valid):
    d, h = tgt.shape[-1], layer.self_attn.num_heads
    sa, ca = _torch_mha(layer.self_attn, d, h), _torch_mha(
        layer.multihead_attn, d, h)
    q = tgt + qpos
    t = layer.norm1(tgt + sa(q, q, tgt)[0])
    t = layer.norm2(t + ca(t + qpos, mem + mpos, mem,
                           key_padding_mask=~valid.bool())[0])
    ffn = layer.linear2(F.relu(layer.linear1(t)))
    return layer.norm3(t + ffn)


def test_layer_matches_official_post_norm_formula():
    torch.manual_seed(0)
    layer = DETRDecoderLayer(16, 4, 32, dropout=0.0).eval()
    tgt, qpos = torch.randn(2, 3, 16), torch.randn(2, 3, 16)
    mem, mpos = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    valid = torch.tensor([[1.] * 7, [1.] * 4 + [0.] * 3])
    out = layer(tgt, qpos, mem, mpos, valid.bool()[:, None, None, :])
    ref = _reference_layer(layer, tgt, qpos, mem, mpos, valid)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)
    assert isinstance(layer.activation, nn.ReLU)


def test_decoder_zero_content_learned_queries_and_norm():
    torch.manual_seed(0)
    dec = MODELS.build(
        dict(type='DETRMomentDecoder', num_layers=2, num_queries=5,
             embed_dim=16, num_heads=4, ffn_dim=32, dropout=0.0)).eval()
    mem, pos = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    valid = torch.tensor([[1.] * 7, [1.] * 4 + [0.] * 3])
    hs, refs = dec(mem, valid, pos)
    assert refs is None and hs.shape == (2, 2, 5, 16)
    qpos = dec.query_embed.weight[None].expand(2, -1, -1)
    t = torch.zeros(2, 5, 16)
    for i, layer in enumerate(dec.layers):
        t = _reference_layer(layer, t, qpos, mem, pos, valid)
        torch.testing.assert_close(hs[i], dec.norm(t), atol=1e-5, rtol=1e-4)
    # padded memory tokens are not attended
    mem2 = mem.clone()
    mem2[1, 4:] = 100.0
    torch.testing.assert_close(dec(mem2, valid, pos)[0], hs)


def test_init_and_relu_dropout_backward():
    torch.manual_seed(0)
    dec = DETRMomentDecoder(1, 3, 8, 2, 16, dropout=0.5).train()
    # query embeddings keep N(0, 1) (model-level in the official code)
    assert dec.query_embed.weight.std() > 0.5
    assert not dec.layers[0].dropout.inplace  # ReLU backward reads its output
    hs, _ = dec(torch.randn(2, 4, 8), torch.ones(2, 4), torch.zeros(2, 4, 8))
    hs.sum().backward()
    assert dec.layers[0].linear1.weight.grad is not None
    with pytest.raises(ValueError, match="'prelu' or 'relu'"):
        DETRDecoderLayer(8, 2, 16, 0.0, activation='gelu')
