# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_seeded, qvhl_projections, random_batch,
                            small_detector_cfg)

B, L, T = 3, 30, 7
QVHL = qvhl_projections()


def small_cfg(**kw):
    return small_detector_cfg('QDDETR', **kw)


def build(**kw):
    return build_seeded(small_cfg(**kw))


def batch():
    return random_batch([L, L - 12, 9], [7, 2, 5])


def test_param_count_at_qvhl_dims():
    # models.md §2 [verified by running the official code]: 7,585,573
    official = MODELS.build(dict(type='QDDETR', official_compat=True, **QVHL))
    assert sum(p.numel() for p in official.parameters()) == 7_585_573
    default = MODELS.build(dict(type='QDDETR', **QVHL))
    # without the unused text PE (32 x 256 + LN 512)
    assert sum(p.numel() for p in default.parameters()) == 7_585_573 - 8_704
    assert official.fusion.official_compat and not default.fusion.official_compat


def test_tensor_mode_outputs_and_global_token_path():
    model = build()
    data = batch()
    calls = []
    model.encoder.register_forward_hook(
        lambda m, a, o: calls.append((a[0].shape, a[1][:, 0].tolist())))
    out = model(data['inputs'], mode='tensor')
    assert out['pred_logits'].shape == (B, 4, 2)
    assert out['pred_spans'].shape == (B, 4, 2)
    assert len(out['aux_outputs']) == 1
    assert out['saliency_scores'].shape == (B, L)
    assert out['saliency_scores_neg'].shape == (B, L)
    # one encoder call on [global; clips] of the positive and negative pass
    assert calls == [(torch.Size([2 * B, L + 1, 32]), [1.0] * (2 * B))]


def test_batched_negative_pass_equals_separate_passes():
    model = build(official_compat=True)
    inp = batch()['inputs']
    out = model(inp, mode='tensor')
    rolled = dict(
        inp,
        text_feat=inp['text_feat'].roll(-1, 0),
        text_mask=inp['text_mask'].roll(-1, 0))
    single = model._forward(inp, with_neg=False)
    neg = model._forward(rolled, with_neg=False)
    for key in ('pred_logits', 'pred_spans', 'saliency_scores'):
        torch.testing.assert_close(out[key], single[key], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        out['saliency_scores_neg'], neg['saliency_scores'], atol=1e-5,
        rtol=1e-4)


def test_saliency_is_query_dependent_head_on_encoder_output():
    model = build()
    inp = batch()['inputs']
    mems = []
    model.encoder.register_forward_hook(lambda m, a, o: mems.append(o))
    out = model._forward(inp, with_neg=False)
    g, local = mems[0][:, 0], mems[0][:, 1:]
    head = model.saliency_head
    expected = (head.proj1(local) * head.proj2(g)[:, None]).sum(-1) / 32**0.5
    torch.testing.assert_close(out['saliency_scores'], expected)


def test_without_global_token():
    model = build(
        global_token=None,
        saliency_head=dict(type='QuerySaliencyHead', with_global=False))
    out = model(batch()['inputs'], mode='tensor')
    assert out['saliency_scores'].shape == (B, L)
    with pytest.raises(ValueError, match='needs global token but '
                       'global_token is None'):
        build(global_token=None)
    with pytest.raises(ValueError, match='takes no global token'):
        build(saliency_head=dict(type='QuerySaliencyHead', with_global=False))


def test_loss_weighted_total_and_train_step():
    model = build()
    data = batch()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    raw = model.raw_losses(data['inputs'], data['data_samples'])
    expected = (10 * raw['loss_span'] + raw['loss_giou'] +
                4 * raw['loss_label'] + raw['loss_saliency'] +
                10 * raw['loss_span_0'] + raw['loss_giou_0'] +
                4 * raw['loss_label_0'])
    total, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(total, expected)
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    before = model.global_token.token.detach().clone()
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.global_token.token)


def test_predict_mode():
    model = build()
    data = batch()
    preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B
    assert len(preds[1]['pred_relevant_windows']) == 4
    assert len(preds[1]['pred_saliency_scores']) == L - 12


def test_config_errors():
    with pytest.raises(ValueError, match="QDDETR: encoder must be a config"):
        build(encoder=None)
    with pytest.raises(ValueError, match='decoder.embed_dim is 16 but '
                       'embed_dim is 32'):
        build(decoder=dict(type='DABMomentDecoder', embed_dim=16,
                           num_heads=4))
