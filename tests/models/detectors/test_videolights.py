# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmmrhd.models.detectors import videolights_saliency_loss
from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_seeded, qvhl_projections, random_batch,
                            small_detector_cfg)

B, L, T = 3, 20, 7


def small_cfg(**kw):
    kw.setdefault('align_dim', 16)
    return small_detector_cfg('VideoLights', fusion_type='BiCMFEncoder', **kw)


def build(**kw):
    return build_seeded(small_cfg(**kw))


def _labels(num_clips):
    labels = torch.zeros(num_clips)
    labels[2:6] = torch.tensor([4., 8., 12., 3.])
    return labels


def batch():
    return random_batch([L, L - 6, 9], [7, 4, 5],
                        gt_spans=torch.tensor([[0.2, 0.2]]),
                        saliency_pos_labels=torch.tensor([4, 3]),
                        saliency_neg_labels=torch.tensor([5, 0]),
                        saliency_all_labels=_labels)


def test_param_count_at_official_dims():
    qvhl = dict(
        embed_dim=256,
        **qvhl_projections(),
        fusion=dict(type='BiCMFEncoder', num_layers=1),
        encoder=dict(type='TransformerEncoder', num_layers=3),
        decoder=dict(type='DABMomentDecoder', num_layers=3, num_queries=10))
    official = MODELS.build(dict(type='VideoLights', official_compat=True,
                                 **qvhl))
    # models.md §5.6 [verified by running the official code]
    assert sum(p.numel() for p in official.parameters()) == 10_399_975
    default = MODELS.build(dict(type='VideoLights', **qvhl))
    # minus the unused text PE (8,704) and contrastive_align_projection_vid
    # (16,448)
    assert sum(p.numel() for p in default.parameters()) == \
        10_399_975 - 8_704 - 16_448


def test_official_compat_reaches_every_part():
    model = build(official_compat=True)
    assert model.feature_refinement.official_compat
    assert model.fusion.official_compat
    assert model.feedback.official_compat
    assert model.align_loss.official_compat
    assert all(t.official_compat for t in model.saliency_loss.terms
               if hasattr(t, 'official_compat'))
    default = build()
    assert not default.fusion.official_compat
    assert not default.feature_refinement.official_compat


def test_outputs_and_negative_pass():
    model = build()
    inp = batch()['inputs']
    out = model(inp, mode='tensor')
    assert out['pred_spans'].shape == (B, 4, 2)
    assert len(out['aux_outputs']) == 1
    for key in ('saliency_scores', 'saliency_scores_neg',
                'saliency_scores_mr'):
        assert out[key].shape == (B, L)
    assert out['proj_queries'].shape == (B, 4, 16)
    assert out['proj_txt_mem'].shape == (B, T, 16)
    alone = model._forward(inp, with_neg=False)
    assert 'saliency_scores_neg' not in alone
    torch.testing.assert_close(alone['saliency_scores'],
                               out['saliency_scores'])
    # negative pass: the text rolled by -1, clips refined with the POSITIVE
    # text (official); so it is not the model run on the rolled batch
    model.feature_refinement = None
    out = model(inp, mode='tensor')
    rolled = dict(inp, text_feat=inp['text_feat'].roll(-1, 0),
                  text_mask=inp['text_mask'].roll(-1, 0))
    torch.testing.assert_close(
        out['saliency_scores_neg'],
        model._forward(rolled, with_neg=False)['saliency_scores'],
        atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('official', [False, True])
def test_train_step_and_predict(official):
    model = build(official_compat=official)
    model.train()
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    data = batch()
    log_vars = model.train_step(data, wrapper)
    assert torch.isfinite(log_vars['loss']).all()
    assert {'loss_span', 'loss_saliency', 'loss_contrastive_align',
            'loss_contrastive_align_0', 'saliency_cos_sim',
            'saliency_mr_to_hd', 'saliency_hard_pos',
            'saliency_hard_neg'} <= set(log_vars)
    model.eval()
    preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B
    assert len(preds[1]['pred_saliency_scores']) == L - 6


def test_parts_optional_and_errors():
    model = build(feedback=None, feature_refinement=None, align_dim=None,
                  align_loss=None)
    data = batch()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert 'loss_contrastive_align' not in losses
    with pytest.raises(KeyError, match="'saliency_scores_mr' is missing"):
        build(feedback=None,
              saliency_loss=videolights_saliency_loss())(
                  data['inputs'], data['data_samples'], mode='loss')
    with pytest.raises(ValueError, match='align_loss needs align_dim'):
        build(align_dim=None)
    with pytest.raises(ValueError, match='must be a config dict'):
        build(fusion='BiCMF')
