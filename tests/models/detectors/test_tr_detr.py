# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmmrhd.models.feedback import top1_clip_bounds
from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_seeded, qvhl_projections, random_batch,
                            small_detector_cfg)

B, L, T = 3, 30, 7
QVHL = qvhl_projections()


def small_cfg(**kw):
    return small_detector_cfg('TRDETR', **kw)


def build(**kw):
    return build_seeded(small_cfg(**kw))


def _pos_mask(num_clips):
    pos = torch.zeros(num_clips)
    pos[2:5] = 1
    return pos


def batch():
    return random_batch([L, L - 12, 9], [7, 2, 5], pos_mask=_pos_mask)


def test_param_count_at_qvhl_dims():
    # models.md §4.6 [verified by running the official code]: 8,308,773
    official = MODELS.build(dict(type='TRDETR', official_compat=True, **QVHL))
    assert sum(p.numel() for p in official.parameters()) == 8_308_773
    default = MODELS.build(dict(type='TRDETR', **QVHL))
    assert sum(p.numel() for p in default.parameters()) == 8_308_773 - 8_704
    for part in (official.fusion, official.hd2mr, official.mr2hd,
                 *official.extra_losses):
        assert part.official_compat
    for part in (default.fusion, default.hd2mr, default.mr2hd,
                 *default.extra_losses):
        assert not part.official_compat
    assert default.mr2hd.similarity == 'cosine'
    assert official.mr2hd.similarity == 'dot'


def test_forward_pipeline_by_hand():
    """Outputs equal the pipeline of models.md §4.2 composed by hand."""
    model = build()
    inp = batch()['inputs']
    vm, tm = inp['video_mask'], inp['text_mask']
    out = model(inp, mode='tensor')
    assert out['pred_logits'].shape == (B, 4, 2)
    assert len(out['aux_outputs']) == 1
    assert out['saliency_scores'].shape == (B, L)
    assert 'saliency_scores_neg' not in out
    with torch.no_grad():
        v0 = model.video_proj(inp['video_feat'])
        q0 = model.text_proj(inp['text_feat'])
        v1 = model.refiner(v0, q0, vm, tm)
        pos = model.video_pos_embed(v1, vm)
        x = model.fusion(v1, q0, vm, tm, pos, None)
        m = model.encoder(x, vm, pos)
        s0 = model.saliency_head(m)
        w = (s0 + (1 - vm) * -1e30).softmax(-1)  # masked (default)
        m2 = model.encoder(m + w[..., None] * x, vm, pos)
        hs, refs = model.decoder(m2, vm, pos)
        logits, spans = model.moment_head(hs, refs)
        fb, _ = model.mr2hd(logits[-1], spans[-1], v0, m2, vm)
        sal = model.saliency_head(fb)
    torch.testing.assert_close(out['src_vid_ed'], v0)
    torch.testing.assert_close(out['src_txt_cls_ed'], q0.mean(1))
    torch.testing.assert_close(out['pred_spans'], spans[-1])
    torch.testing.assert_close(out['saliency_scores'], sal)
    head = model.saliency_head
    torch.testing.assert_close(
        sal, head.proj1(fb).sum(-1) / math.sqrt(32))


def test_optional_parts_off():
    model = build(refiner=None, hd2mr=None, mr2hd=None)
    inp = batch()['inputs']
    calls = []
    model.encoder.register_forward_hook(lambda *a: calls.append(1))
    out = model(inp, mode='tensor')
    assert len(calls) == 1  # no HD2MR re-encoding
    with torch.no_grad():
        m = model.encoder(
            model.fusion(out['src_vid_ed'], out['src_txt_ed'],
                         inp['video_mask'], inp['text_mask'],
                         model.video_pos_embed(out['src_vid_ed'],
                                               inp['video_mask'])),
            inp['video_mask'],
            model.video_pos_embed(out['src_vid_ed'], inp['video_mask']))
    torch.testing.assert_close(out['saliency_scores'], model.saliency_head(m))


def test_official_mr2hd_uses_top1_span():
    model = build(official_compat=True)
    inp = batch()['inputs']
    seen = []
    model.mr2hd.gru.register_forward_hook(lambda m, a, o: seen.append(a[0]))
    out = model(inp, mode='tensor')
    bounds = top1_clip_bounds(out['pred_logits'], out['pred_spans'], L,
                              sort=True)
    gru_in = seen[0]
    assert gru_in.shape == (B, L, 32)  # reads the padding up to L
    for b, (st, ed) in enumerate(bounds.tolist()):
        sl = out['src_vid_ed'][b, st:ed + 1]
        torch.testing.assert_close(gru_in[b, :len(sl)], sl)
        assert gru_in[b, len(sl):].abs().sum() == 0


def test_loss_weighted_total_and_train_step():
    model = build()
    data = batch()
    raw = model.raw_losses(data['inputs'], data['data_samples'])
    assert list(raw)[-2:] == ['loss_vtc', 'loss_ctc']
    assert 'saliency_neg_pair' not in raw  # hinge + rank contrastive only
    expected = (10 * raw['loss_span'] + raw['loss_giou'] +
                4 * raw['loss_label'] + 10 * raw['loss_span_0'] +
                raw['loss_giou_0'] + 4 * raw['loss_label_0'] +
                raw['loss_saliency'] + 0.3 * raw['loss_vtc'] +
                0.5 * raw['loss_ctc'])
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    total, _ = model.parse_losses(losses)
    torch.testing.assert_close(total, expected)
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    before = model.mr2hd.gru.weight_hh_l0.detach().clone()
    w4c = model.refiner.cq_attention.w4C.detach().clone()
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.mr2hd.gru.weight_hh_l0)
    assert not torch.equal(w4c, model.refiner.cq_attention.w4C)


def test_predict_mode():
    model = build()
    data = batch()
    preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B
    assert len(preds[1]['pred_relevant_windows']) == 4
    assert len(preds[1]['pred_saliency_scores']) == L - 12


def test_missing_pos_mask_is_a_clear_error():
    model = build()
    data = batch()
    for ds in data['data_samples']:
        del ds['pos_mask']
    with pytest.raises(KeyError, match='GeneratePositiveClipMask'):
        model(data['inputs'], data['data_samples'], mode='loss')


def test_config_errors():
    with pytest.raises(ValueError, match='TRDETR: encoder must be a config'):
        build(encoder=None)
    with pytest.raises(ValueError, match='must not use a global token'):
        build(saliency_head=dict(type='QuerySaliencyHead'))
    with pytest.raises(ValueError, match='mr2hd.embed_dim is 16 but '
                       'embed_dim is 32'):
        build(mr2hd=dict(type='SpanGRUFeedback', embed_dim=16))
