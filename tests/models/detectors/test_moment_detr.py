# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_seeded, qvhl_projections, random_batch,
                            small_projections)

B, L = 3, 30
QVHL = qvhl_projections()


def build(**kw):
    layer = dict(num_heads=4, ffn_dim=64, activation='relu')
    cfg = dict(
        type='MomentDETR',
        embed_dim=32,
        **small_projections(),
        encoder=dict(type='TransformerEncoder', num_layers=1, **layer),
        decoder=dict(
            type='DETRMomentDecoder', num_layers=2, num_queries=4, **layer))
    cfg.update(kw)
    return build_seeded(cfg)


def batch():
    return random_batch([L, L - 12, 9], [7, 2, 5], saliency_all_labels=None)


def test_param_count_at_qvhl_dims():
    # models.md §6 [verified by running the official code]: 4,823,305
    official = MODELS.build(
        dict(type='MomentDETR', official_compat=True, **QVHL))
    assert sum(p.numel() for p in official.parameters()) == 4_823_305
    default = MODELS.build(dict(type='MomentDETR', **QVHL))
    assert sum(p.numel() for p in default.parameters()) == 4_823_305 - 8_704
    assert type(default.encoder.layers[0].activation).__name__ == 'ReLU'


def test_tensor_mode_joint_sequence_and_saliency():
    model = build()
    data = batch()
    inp = data['inputs']
    seen = []
    model.encoder.register_forward_hook(
        lambda m, a, o: seen.append((a[0].shape, a[1].clone(), o)))
    out = model(inp, mode='tensor')
    t = inp['text_feat'].shape[1]
    shape, mask, memory = seen[0]
    # one encoder pass over [video; text] with the concatenated mask
    assert shape == (B, L + t, 32)
    assert torch.equal(mask, torch.cat([inp['video_mask'],
                                        inp['text_mask']], 1))
    assert out['pred_logits'].shape == (B, 4, 2)
    assert out['pred_spans'].shape == (B, 4, 2)
    assert len(out['aux_outputs']) == 1
    assert 'saliency_scores_neg' not in out  # no negative pair
    torch.testing.assert_close(out['saliency_scores'],
                               model.saliency_head.proj(
                                   memory[:, :L]).squeeze(-1))


def test_hinge_only_loss_and_train_step():
    model = build()
    data = batch()
    raw = model.raw_losses(data['inputs'], data['data_samples'])
    assert set(raw) >= {'loss_span', 'loss_giou', 'loss_label',
                        'loss_saliency', 'loss_span_0'}
    out = model(data['inputs'], mode='tensor')
    s = out['saliency_scores']
    pos, neg = torch.tensor([3, 4]), torch.tensor([0, 1])
    hinge = sum((0.2 + s[i, neg] - s[i, pos]).clamp(min=0).sum()
                for i in range(B)) / (B * 2) * 2
    torch.testing.assert_close(raw['loss_saliency'], hinge)
    total, _ = model.parse_losses(
        model(data['inputs'], data['data_samples'], mode='loss'))
    expected = (10 * raw['loss_span'] + raw['loss_giou'] +
                4 * raw['loss_label'] + raw['loss_saliency'] +
                10 * raw['loss_span_0'] + raw['loss_giou_0'] +
                4 * raw['loss_label_0'])
    torch.testing.assert_close(total, expected)
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    before = model.decoder.query_embed.weight.detach().clone()
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.decoder.query_embed.weight)


def test_predict_mode():
    model = build()
    data = batch()
    preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B
    assert len(preds[2]['pred_relevant_windows']) == 4
    assert len(preds[2]['pred_saliency_scores']) == 9


def test_config_errors():
    with pytest.raises(ValueError, match='MomentDETR: decoder must be'):
        build(decoder=None)
    with pytest.raises(ValueError, match='MomentDETR: decoder width is 16'):
        build(decoder=dict(type='DETRMomentDecoder', embed_dim=16,
                           num_heads=4))
