# Copyright (c) mmmrhd contributors. All rights reserved.
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmmrhd.models.detectors import TaskWeave
from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_seeded, qvhl_projections, random_batch,
                            small_projections)

B, L, T = 3, 75, 7


def small_cfg(**kw):
    cfg = dict(
        type='TaskWeave',
        embed_dim=32,
        **small_projections(),
        fusion=dict(type='T2VEncoder', num_layers=1, num_heads=4, ffn_dim=64),
        neck=dict(
            type='TaskDecoupledUnit',
            shared_expert=dict(
                type='TransformerExpert',
                num_layers=1,
                num_heads=4,
                ffn_dim=64)),
        decoder=dict(
            type='DABMomentDecoder',
            num_layers=2,
            num_queries=4,
            num_heads=4,
            ffn_dim=64))
    cfg.update(kw)
    return cfg


def build(**kw):
    return build_seeded(small_cfg(**kw))


def batch(length=L):
    return random_batch([length, length - 15, 20], [7, 4, 5])


def test_param_count_at_qvhl_dims():
    qvhl = qvhl_projections()
    official = TaskWeave(official_compat=True, **qvhl)
    assert sum(p.numel() for p in official.parameters()) == 7_784_488
    default = TaskWeave(**qvhl)  # without the unused text PE (8,704)
    assert sum(p.numel() for p in default.parameters()) == 7_775_784
    assert default.unused_text_pos_embed is None


def test_official_compat_reaches_every_part():
    model = build(official_compat=True)
    assert model.fusion.official_compat
    assert model.fusion_pool.official_compat
    assert model.neck.mr_expert.official_compat
    assert model.neck.shared_expert.pool.official_compat
    assert model.feedback.hgf_level == 'input'
    assert model.feedback.h2m.official_compat
    mixed = build(
        official_compat=True,
        fusion=dict(
            type='T2VEncoder',
            num_layers=1,
            num_heads=4,
            ffn_dim=64,
            official_compat=False))
    assert not mixed.fusion.official_compat
    default = build()
    assert not default.fusion.official_compat
    assert default.feedback.hgf_level == 'decoder'
    assert default.feedback_active is True
    # the switch lives on the FeedbackHead; the property reads/writes it
    default.feedback_active = False
    assert default.feedback.feedback_active is False
    default.feedback.feedback_active = True
    assert default.feedback_active is True
    assert 'feedback_active' not in vars(default)  # not a switch of its own
    no_feedback = build(feedback=None)
    assert no_feedback.feedback_active is False
    no_feedback.feedback_active = True  # nothing to switch on
    assert no_feedback.feedback_active is False


def test_tensor_mode_outputs():
    model = build()
    data = batch()
    out = model(data['inputs'], mode='tensor')
    assert out['pred_logits'].shape == (B, 4, 2)
    assert out['pred_spans'].shape == (B, 4, 2)
    assert len(out['aux_outputs']) == 1
    assert out['aux_outputs'][0]['pred_spans'].shape == (B, 4, 2)
    assert out['saliency_scores'].shape == (B, L)
    assert out['saliency_scores_neg'].shape == (B, L)
    assert out['video_mask'] is data['inputs']['video_mask']


@pytest.mark.parametrize('official', [False, True])
def test_batched_negative_pass_equals_separate_passes(official):
    model = build(official_compat=official)
    model.feedback_active = False
    inp = batch()['inputs']
    out = model(inp, mode='tensor')
    # main outputs do not depend on whether the negative pass is stacked
    alone = model._forward(inp, with_neg=False)
    for key in ('pred_logits', 'pred_spans', 'saliency_scores'):
        torch.testing.assert_close(out[key], alone[key], atol=1e-5, rtol=1e-4)
    # negative pass = the same model on the text rolled by -1
    rolled = dict(
        inp,
        text_feat=inp['text_feat'].roll(-1, 0),
        text_mask=inp['text_mask'].roll(-1, 0))
    neg = model._forward(rolled, with_neg=False)['saliency_scores']
    torch.testing.assert_close(
        out['saliency_scores_neg'], neg, atol=1e-5, rtol=1e-4)


def test_feedback_switch_and_pass_count():
    model = build(official_compat=True)
    no_fb = build(official_compat=True, feedback=None)
    calls = []
    model.fusion.register_forward_hook(
        lambda m, a, o: calls.append(o.shape[0]))
    inp = batch()['inputs']
    model.feedback_active = False
    off = model(inp, mode='tensor')
    torch.testing.assert_close(off['pred_spans'],
                               no_fb(inp, mode='tensor')['pred_spans'])
    assert calls == [2 * B]  # main + negative pair, stacked
    calls.clear()
    model.feedback_active = True
    on = model(inp, mode='tensor')
    # released HD2MR: pass 1 (+ negative pair) and the re-run pass 2
    assert calls == [2 * B, B]
    torch.testing.assert_close(on['saliency_scores'], off['saliency_scores'])
    assert not torch.allclose(on['pred_spans'], off['pred_spans'])


@pytest.mark.parametrize('manner', ['mr2hd', 'hd2mr', 'bi', 'mr_hd', 'hd_mr'])
@pytest.mark.parametrize('official', [False, True])
def test_all_manners_train_step(manner, official):
    model = build(
        official_compat=official,
        feedback=dict(type='FeedbackHead', manner=manner))
    model.train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0))
    log_vars = model.train_step(batch(), wrapper)
    assert torch.isfinite(log_vars['loss']).all()
    assert {'loss_span', 'loss_saliency', 'loss_mr', 'loss_hd',
            'hd_log_var'} <= set(log_vars)


def test_loss_and_joint_total_at_init():
    model = build()
    data = batch()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert {
        'loss_span', 'loss_giou', 'loss_label', 'class_error', 'loss_saliency',
        'loss_span_0'
    } <= set(losses)
    total, log_vars = model.parse_losses(losses)
    loss_mr = sum(v for k, v in losses.items()
                  if k.startswith(('loss_span', 'loss_giou', 'loss_label')))
    # log-variances start at 0: total = 2 * L_hd + L_mr
    torch.testing.assert_close(total, (2 * losses['loss_saliency'] +
                                       loss_mr).reshape(1))
    assert total.shape == (1, )
    assert set(dict(model.named_parameters())) >= {
        'joint_loss.hd_log_var', 'joint_loss.mr_log_var'
    }
    plain = build(joint_loss=None)
    total2, _ = plain.parse_losses(losses)
    assert torch.allclose(total2,
                          sum(v for k, v in losses.items() if 'loss' in k))


def test_predict_mode():
    model = build()
    data = batch()
    preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B
    p = preds[1]
    assert p['qid'] == 1 and p['ann'] == dict(qid=1)
    assert len(p['pred_relevant_windows']) == 4
    assert len(p['pred_saliency_scores']) == L - 15
    scores = [w[2] for w in p['pred_relevant_windows']]
    assert scores == sorted(scores, reverse=True)
    # scores are softmax(pred_logits)[..., 0]
    with torch.no_grad():
        out = model._forward(data['inputs'], with_neg=False)
    fg = out['pred_logits'][1].softmax(-1)[:, 0]
    assert sorted(scores) == pytest.approx(
        sorted(round(float(s), 4) for s in fg), abs=1e-4)


def test_errors():
    model = build()
    data = batch()
    inp = data['inputs']
    with pytest.raises(ValueError, match="unknown mode 'train'"):
        model(inp, mode='train')
    with pytest.raises(ValueError, match="mode 'loss' needs data_samples"):
        model(inp, mode='loss')
    with pytest.raises(
            ValueError,
            match='video_feat has 11 columns but the '
            r'declared streams sum to 10 \(feat 8 \+ tef 2\)'):
        model(dict(inp, video_feat=torch.zeros(B, L, 11)), mode='tensor')
    bad = inp['text_mask'].clone()
    bad[2] = 0
    with pytest.raises(ValueError, match=r'text_mask of sample\(s\) \[2\]'):
        model(dict(inp, text_mask=bad), data['data_samples'], mode='loss')
    with pytest.raises(KeyError, match='inputs lack'):
        model(dict(video_feat=inp['video_feat']), mode='tensor')
    with pytest.raises(ValueError, match='2 data_samples for a batch of 3'):
        model(inp, data['data_samples'][:2], mode='predict')
    no_post = build(post_processor=None)
    with pytest.raises(ValueError, match='needs a post_processor'):
        no_post(inp, data['data_samples'], mode='predict')


def test_config_errors():
    with pytest.raises(ValueError, match="fusion must be a config dict"):
        build(fusion='T2VEncoder')
    with pytest.raises(
            ValueError, match='video_proj.out_dim is 16 but '
            'embed_dim is 32'):
        cfg = small_cfg()
        cfg['video_proj'] = dict(cfg['video_proj'], out_dim=16)
        MODELS.build(cfg)
    with pytest.raises(ValueError, match="unknown manner 'xx'"):
        build(feedback=dict(type='FeedbackHead', manner='xx'))
    with pytest.raises(ValueError, match="unknown mr_expert type 'GRU'"):
        cfg = small_cfg()
        cfg['neck'] = dict(cfg['neck'], mr_expert=dict(type='GRU'))
        MODELS.build(cfg)


def test_official_mr2hd_needs_75_clips():
    model = build(
        official_compat=True,
        feedback=dict(type='FeedbackHead', manner='mr2hd'))
    inp = batch(length=60)['inputs']
    with pytest.raises(ValueError, match='needs L == 75 clips'):
        model(inp, mode='tensor')
    model.feedback_active = False
    model(inp, mode='tensor')  # fine without feedback


def test_deepcopy_and_state_dict_weights_only(tmp_path):
    model = build(official_compat=True)
    copy.deepcopy(model)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    sd = torch.load(path, weights_only=True)['state_dict']
    other = build(official_compat=True)
    other.load_state_dict(sd, strict=True)
    assert sd['video_proj.stream_dims'].tolist() == [8, 2]


def test_layout_buffers_survive_ema_with_buffers():
    from mmengine.model import ExponentialMovingAverage
    model = build()
    ema = ExponentialMovingAverage(model, momentum=0.1, update_buffers=True)
    ema.update_parameters(model)  # first call copies
    with torch.no_grad():
        model.moment_head.class_embed.bias.add_(1.0)
    ema.update_parameters(model)
    avg = ema.module
    assert torch.equal(avg.video_proj.stream_dims,
                       model.video_proj.stream_dims)
    torch.testing.assert_close(avg.moment_head.class_embed.bias,
                               model.moment_head.class_embed.bias - 0.9)
