# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.layers import inverse_sigmoid, span_sine_embedding
from mmmrhd.models.decoders import DABMomentDecoder

D, L, Q = 16, 7, 3


def _decoder(**kw):
    torch.manual_seed(0)
    return DABMomentDecoder(
        num_layers=2,
        num_queries=Q,
        embed_dim=D,
        num_heads=2,
        ffn_dim=32,
        **kw).eval()


def _memory():
    g = torch.Generator().manual_seed(1)
    mem, pos = torch.randn(
        2, L, D, generator=g), torch.randn(
            2, L, D, generator=g)
    mask = torch.ones(2, L)
    mask[1, 5:] = 0
    return mem, mask, pos


def test_shapes_structure_and_init():
    dec = _decoder()
    assert dec.layers[0].ca_qpos_proj is not None
    assert dec.layers[1].ca_qpos_proj is None
    assert 'layers.1.ca_qpos_proj.weight' not in dec.state_dict()
    assert dec.bbox_embed.layers[-1].bias.abs().sum() == 0
    assert dec.query_embed.weight.shape == (Q, 2)
    hs, refs = dec(*_memory())
    assert hs.shape == (2, 2, Q, D) and refs.shape == (2, 2, Q, 2)
    kept = _decoder(keep_query_pos=True)
    assert kept.layers[1].ca_qpos_proj is not None


def test_first_layer_inputs_and_refinement():
    dec = _decoder()
    seen = {}

    def pre_hook(module, args):
        seen['args'] = args

    def hook(module, args, out):
        seen['out0'] = out

    dec.layers[0].register_forward_pre_hook(pre_hook)
    dec.layers[0].register_forward_hook(hook)
    mem, mask, pos = _memory()
    hs, refs = dec(mem, mask, pos)
    ref0 = dec.query_embed.weight.sigmoid()
    torch.testing.assert_close(refs[0], ref0.expand(2, Q, 2))
    tgt, _, _, _, query_pos, sine = seen['args']
    assert tgt.abs().sum() == 0  # zero initial content
    s0 = span_sine_embedding(ref0, D)
    torch.testing.assert_close(query_pos[0], dec.ref_point_head(s0))
    # Layer 0: no query_scale; modulation by sigmoid(ref_anchor_head(0))/w.
    mod = dec.ref_anchor_head(torch.zeros(Q, D)).sigmoid()[:, 0] / ref0[:, 1]
    torch.testing.assert_close(sine[0], s0 * mod[:, None])
    expected_ref1 = (dec.bbox_embed(seen['out0']) +
                     inverse_sigmoid(refs[0])).sigmoid()
    torch.testing.assert_close(refs[1], expected_ref1)
    torch.testing.assert_close(hs[0], dec.norm(seen['out0']))


def test_reference_gradients_quirk6():
    dec = _decoder()
    hs, refs = dec(*_memory())
    assert refs[1].requires_grad  # appended with grad
    hs[-1].sum().backward(retain_graph=True)
    # The next layer sees the refined anchor detached: no gradient reaches
    # bbox_embed through the decoder outputs.
    assert dec.bbox_embed.layers[0].weight.grad is None
    refs[1].sum().backward()
    assert dec.bbox_embed.layers[0].weight.grad.abs().sum() > 0


def test_padded_memory_is_ignored():
    dec = _decoder()
    mem, mask, pos = _memory()
    hs, refs = dec(mem, mask, pos)
    mem2 = mem.clone()
    mem2[1, 5:] = 100.0
    hs2, _ = dec(mem2, mask, pos)
    torch.testing.assert_close(hs2, hs)


def test_errors():
    with pytest.raises(ValueError, match='num_layers must be >= 1'):
        DABMomentDecoder(num_layers=0)
    with pytest.raises(ValueError, match='embed_dim must be even'):
        DABMomentDecoder(embed_dim=15, num_heads=3)
