# Copyright (c) mmmrhd contributors. All rights reserved.
"""CLIP adapters vs a transcription of OpenAI's ``encode_image`` /
``encode_text`` (random small configs), the GELU trap, token layout,
weight loading, and open_clip as an optional oracle."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmmrhd.models.backbones import (CLIPTextAdapter, CLIPVisionAdapter,
                                     load_clip_state_dict)
from mmmrhd.registry import MODELS
from mmmrhd.utils.errors import CheckpointError, ConfigError

VISION = dict(image_size=32, patch_size=8, width=24, layers=2, heads=3,
              output_dim=12)
TEXT = dict(context_length=36, vocab_size=60, width=16, heads=2, layers=2,
            embed_dim=12)
SOT, EOT = 58, 59


def _toy_tokenizer(text):
    # id 0 is a real token (OpenAI's '!'), so lengths must not be inferred
    return [0 if c == '!' else ord(c) % 50 + 1 for c in text]


def _randomize(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 +
                    (1.0 if p.dim() == 1 and p.shape[0] in (16, 24) else 0))
    return module


# ---- transcription of the reference (OpenAI clip/model.py) ------------
def _ref_block(x, sd, prefix, heads, mask):
    """One residual attention block on (L, B, D), written out by hand."""

    def ln(t, name):
        return F.layer_norm(t, t.shape[-1:], sd[f'{prefix}{name}.weight'],
                            sd[f'{prefix}{name}.bias'])

    seq, batch, dim = x.shape
    h = ln(x, 'ln_1')
    qkv = h @ sd[f'{prefix}attn.in_proj_weight'].T + sd[
        f'{prefix}attn.in_proj_bias']
    q, k, v = qkv.chunk(3, dim=-1)

    def split(t):  # (L, B, D) -> (B, heads, L, D/heads)
        return t.reshape(seq, batch, heads, dim // heads).permute(1, 2, 0, 3)

    q, k, v = split(q), split(k), split(v)
    scores = q @ k.transpose(-1, -2) / math.sqrt(dim // heads)
    if mask is not None:
        scores = scores + mask
    attn = scores.softmax(-1) @ v  # (B, heads, L, d)
    attn = attn.permute(2, 0, 1, 3).reshape(seq, batch, dim)
    x = x + attn @ sd[f'{prefix}attn.out_proj.weight'].T + sd[
        f'{prefix}attn.out_proj.bias']
    h = ln(x, 'ln_2')
    h = h @ sd[f'{prefix}mlp.c_fc.weight'].T + sd[f'{prefix}mlp.c_fc.bias']
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU
    return x + h @ sd[f'{prefix}mlp.c_proj.weight'].T + sd[
        f'{prefix}mlp.c_proj.bias']


def _ref_encode_image(sd, images, cfg):
    x = F.conv2d(images, sd['conv1.weight'], stride=cfg['patch_size'])
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    cls = sd['class_embedding'] + torch.zeros(x.shape[0], 1, x.shape[-1])
    x = torch.cat([cls, x], dim=1) + sd['positional_embedding']
    x = F.layer_norm(x, x.shape[-1:], sd['ln_pre.weight'], sd['ln_pre.bias'])
    x = x.permute(1, 0, 2)
    for i in range(cfg['layers']):
        x = _ref_block(x, sd, f'transformer.resblocks.{i}.', cfg['heads'],
                       None)
    x = x.permute(1, 0, 2)
    x = F.layer_norm(x[:, 0, :], x.shape[-1:], sd['ln_post.weight'],
                     sd['ln_post.bias'])
    return x @ sd['proj']


def _ref_encode_text(sd, tokens, cfg):
    """moment_detr run_on_video encode_text: per-token states + pooled."""
    n = cfg['context_length']
    mask = torch.full((n, n), float('-inf')).triu(1)
    x = sd['token_embedding.weight'][tokens] + sd['positional_embedding']
    x = x.permute(1, 0, 2)
    for i in range(cfg['layers']):
        x = _ref_block(x, sd, f'transformer.resblocks.{i}.', cfg['heads'],
                       mask)
    x = x.permute(1, 0, 2)
    hidden = F.layer_norm(x, x.shape[-1:], sd['ln_final.weight'],
                          sd['ln_final.bias'])
    pooled = hidden[torch.arange(len(tokens)),
                    tokens.argmax(-1)] @ sd['text_projection']
    return hidden, pooled


# -----------------------------------------------------------------------
def _vision(seed=0):
    return _randomize(CLIPVisionAdapter(arch=None, vision_cfg=VISION),
                      seed).eval()


def _text(seed=0, **kwargs):
    cfg = dict(arch=None, text_cfg=TEXT, tokenizer=_toy_tokenizer,
               sot_token=SOT, eot_token=EOT)
    cfg.update(kwargs)
    return _randomize(CLIPTextAdapter(**cfg), seed).eval()


def test_encode_image_matches_reference_transcription():
    model = _vision()
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator()
                         .manual_seed(1))
    with torch.no_grad():
        got = model(images)
    expected = _ref_encode_image(model.visual.state_dict(), images, VISION)
    assert got.shape == (3, 12)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_encode_text_matches_reference_transcription():
    model = _text()
    queries = ['a man walks his dog!', 'x' * 40]
    out = model.encode(queries)
    tokens, lengths = model.tokenize(queries)
    assert lengths == [22, 32]  # SOT + 20 chars + EOT; SOT + 30 + EOT
    hidden, pooled = _ref_encode_text(model.text.state_dict(), tokens, TEXT)
    for i, item in enumerate(out):
        np.testing.assert_allclose(
            item['last_hidden_state'], hidden[i, :lengths[i]].numpy(),
            rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(
            item['pooler_output'], pooled[i].numpy(), rtol=1e-4, atol=1e-5)


def test_token_layout_sot_first30_eot():
    model = _text(text_cfg=dict(TEXT, context_length=40), max_bpe_tokens=30)
    tokens, lengths = model.tokenize(['ab!', 'y' * 45])
    # 'ab!' -> [a, b, 0]: the BPE id 0 is kept and counted
    assert tokens[0, :5].tolist() == [SOT, ord('a') % 50 + 1,
                                      ord('b') % 50 + 1, 0, EOT]
    assert lengths == [5, 32]
    assert tokens[1, 0] == SOT and tokens[1, 31] == EOT
    assert tokens[1, 1:31].tolist() == [ord('y') % 50 + 1] * 30
    assert tokens[1, 32:].abs().sum() == 0
    out = model.encode(['ab!', 'y' * 45])
    assert out[0]['last_hidden_state'].shape == (5, 16)
    assert out[1]['last_hidden_state'].shape == (32, 16)
    # last_hidden_state has no projection, pooler_output = EOT x projection
    proj = model.text.text_projection.detach().numpy()
    np.testing.assert_allclose(out[1]['last_hidden_state'][31] @ proj,
                               out[1]['pooler_output'], rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ConfigError, match='context length'):
        _text(max_bpe_tokens=35)
    with pytest.raises(ConfigError, match='sot_token and eot_token'):
        _text(sot_token=None).tokenize(['a'])


def test_gelu_trap_refused():
    for arch in ('ViT-B-32', 'ViT-B/32'):
        with pytest.raises(ConfigError, match='ViT-B-32-quickgelu'):
            CLIPVisionAdapter(arch=arch)
        with pytest.raises(ConfigError, match='QuickGELU'):
            CLIPTextAdapter(arch=arch)
    with pytest.raises(ConfigError, match='exact-GELU model'):
        CLIPVisionAdapter(arch=None, vision_cfg=dict(VISION, act='gelu'),
                          pretrained='weights.pt')
    with pytest.raises(ConfigError, match='unknown CLIP arch'):
        CLIPVisionAdapter(arch='RN50')
    # the activation matters: same weights, GELU -> different features
    quick = _vision()
    gelu = CLIPVisionAdapter(arch=None, vision_cfg=dict(VISION, act='gelu'))
    gelu.load_state_dict(quick.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(quick(x), gelu.eval()(x), atol=1e-4)


def test_default_arch_is_vit_b32_quickgelu():
    model = MODELS.build(dict(type='CLIPVisionAdapter'))
    assert model.out_dim == 512
    assert type(model.visual.transformer.resblocks[0].mlp.gelu).__name__ == (
        'QuickGELU')
    assert sum(p.numel() for p in model.parameters()) == 87_849_216


def _full_state(vision, text):
    state = {
        f'visual.{k}': v
        for k, v in vision.visual.state_dict().items()
    }
    state.update(text.text.state_dict())
    state['logit_scale'] = torch.tensor(4.6)
    return state


def test_weight_loading(tmp_path):
    vision, text = _vision(3), _text(4)
    path = str(tmp_path / 'clip.pt')
    torch.save({f'module.{k}': v.half()
                for k, v in _full_state(vision, text).items()}, path)
    state = load_clip_state_dict(path)
    assert state['visual.proj'].dtype == torch.float32
    v2 = CLIPVisionAdapter(arch=None, vision_cfg=VISION, pretrained=path)
    t2 = CLIPTextAdapter(arch=None, text_cfg=TEXT, pretrained=path,
                         tokenizer=_toy_tokenizer, sot_token=SOT,
                         eot_token=EOT)
    torch.testing.assert_close(v2.visual.proj, vision.visual.proj.half()
                               .float())
    torch.testing.assert_close(t2.text.ln_final.weight,
                               text.text.ln_final.weight.half().float())
    bad = _full_state(vision, text)
    bad.pop('visual.ln_post.bias')
    bad['ln_final.weight'] = torch.zeros(5)
    torch.save(bad, path)
    with pytest.raises(CheckpointError, match='missing: ln_post.bias'):
        CLIPVisionAdapter(arch=None, vision_cfg=VISION, pretrained=path)
    with pytest.raises(CheckpointError, match='wrong shape: ln_final.weight'):
        CLIPTextAdapter(arch=None, text_cfg=TEXT, pretrained=path)
    with pytest.raises(CheckpointError, match='not found'):
        load_clip_state_dict(str(tmp_path / 'nope.pt'))
    (tmp_path / 'junk.pt').write_bytes(b'junk')
    with pytest.raises(CheckpointError, match='cannot read'):
        load_clip_state_dict(str(tmp_path / 'junk.pt'))


def _open_clip():
    try:
        import open_clip
    except Exception as exc:  # noqa: BLE001 - any import failure
        pytest.skip(f'open_clip (optional oracle) not importable: {exc}')
    return open_clip


def test_open_clip_tokenizer(monkeypatch):
    """The BPE tokenizer file is loaded without importing open_clip (which
    needs a torchvision matching torch); without the extra: clear error."""
    import importlib.util
    import sys
    model = _text(text_cfg=dict(TEXT, vocab_size=49408, context_length=77),
                  tokenizer='open_clip', sot_token=None, eot_token=None)
    if importlib.util.find_spec('open_clip') is None:
        with pytest.raises(ConfigError, match='open_clip_torch'):
            model.tokenize(['a'])
        return
    monkeypatch.delitem(sys.modules, 'open_clip', raising=False)
    tokens, lengths = model.tokenize(['A man walks his dog in the park.'])
    # OpenAI BPE ids (equal to open_clip.tokenize / moment_detr's)
    assert tokens[0, :11].tolist() == [
        49406, 320, 786, 8192, 787, 1929, 530, 518, 1452, 269, 49407
    ]
    assert lengths == [11]
    assert 'open_clip' not in sys.modules


def test_parity_with_open_clip_vit_b32_quickgelu(tmp_path):
    """Random full-size ViT-B-32-quickgelu from open_clip (no download):
    encode_image, encode_text (pooled) and the per-token states."""
    open_clip = _open_clip()
    torch.manual_seed(0)
    ref = open_clip.create_model('ViT-B-32-quickgelu', pretrained=None)
    ref.eval()
    path = str(tmp_path / 'oc.pt')
    torch.save(ref.state_dict(), path)
    vision = CLIPVisionAdapter(pretrained=path).eval()
    text = CLIPTextAdapter(pretrained=path, tokenizer='open_clip').eval()
    images = torch.randn(2, 3, 224, 224)
    queries = ['A man walks his dog in the park.', 'a ' * 40]
    out = text.encode(queries)
    tokens, lengths = text.tokenize(queries)
    assert lengths == [11, 32]
    # short query: our tokens equal open_clip.tokenize
    assert torch.equal(tokens[0], open_clip.tokenize(queries[:1])[0])
    with torch.no_grad():
        torch.testing.assert_close(vision(images), ref.encode_image(images),
                                   rtol=1e-4, atol=1e-4)
        pooled = ref.encode_text(tokens)
        x = ref.token_embedding(tokens) + ref.positional_embedding
        x = ref.ln_final(ref.transformer(x, attn_mask=ref.attn_mask))
    for i in range(2):
        np.testing.assert_allclose(out[i]['pooler_output'], pooled[i],
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(out[i]['last_hidden_state'],
                                   x[i, :lengths[i]], rtol=1e-4, atol=1e-4)
