# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights' cos-sim, adaptive hard and alignment losses, by hand."""
import math

import pytest
import torch

from mmmrhd.models.losses import (AdaptiveHardSaliencyLoss,
                                  ContrastiveAlignLoss, SaliencyCosSimLoss,
                                  normalized_saliency_pair, query_text_nce,
                                  video_text_align)

SCORES = torch.tensor([[1., 2.], [3., 4.]])
LABELS = torch.tensor([[0., 2.], [4., 0.]])
MASK = torch.ones(2, 2)
# official: s' = (s - 1) / (4 - 0) = [[0, .25], [.5, .75]] -> rows
# normalised [[0, 1], [.5547, .8321]]; labels -> [[0, 1], [1, 0]]
R = 0.5 / math.sqrt(0.5**2 + 0.75**2)  # 0.5547
R2 = 0.75 / math.sqrt(0.5**2 + 0.75**2)  # 0.8321


def _io(scores=SCORES, labels=LABELS, mask=MASK, **extra):
    return (dict(saliency_scores=scores, video_mask=mask, **extra),
            dict(saliency_all_labels=labels))


def test_normalized_pair_official_and_default():
    s, y = normalized_saliency_pair(SCORES, LABELS, None, official=True)
    torch.testing.assert_close(s, torch.tensor([[0., 1.], [R, R2]]))
    torch.testing.assert_close(y, torch.tensor([[0., 1.], [1., 0.]]))
    s, _ = normalized_saliency_pair(SCORES, LABELS, MASK, official=False)
    # per-row min: [[0, 1], [0, 1]]
    torch.testing.assert_close(s, torch.tensor([[0., 1.], [0., 1.]]))
    # a padded clip is excluded from the min and zeroed
    s, _ = normalized_saliency_pair(
        torch.tensor([[5., 7., -9.]]), torch.tensor([[0., 1., 0.]]),
        torch.tensor([[1., 1., 0.]]), official=False)
    torch.testing.assert_close(s, torch.tensor([[0., 1., 0.]]))


def test_cos_sim_sum_vs_mean():
    official = SaliencyCosSimLoss(official_compat=True, loss_weight=2.0)
    # errors [0, 1 - .5547] summed, x2
    assert float(official(*_io())) == pytest.approx(2 * (1 - R), abs=1e-6)
    default = SaliencyCosSimLoss()
    # errors [0, 1] averaged
    assert float(default(*_io())) == pytest.approx(0.5, abs=1e-6)
    mr = SaliencyCosSimLoss(score_key='saliency_scores_mr', name='mr_to_hd')
    outputs, targets = _io(saliency_scores_mr=SCORES.flip(1))
    # flipped rows: per-row shifted [[1, 0], [1, 0]] -> errors [1, 0]
    assert float(mr(outputs, targets)) == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(KeyError, match="'saliency_scores_mr' is missing"):
        mr(*_io())


def test_hard_losses_official_hand_computed():
    pos = AdaptiveHardSaliencyLoss('pos', loss_weight=10.0,
                                   official_compat=True)
    neg = AdaptiveHardSaliencyLoss('neg', loss_weight=10.0,
                                   official_compat=True)
    # P = labels > 0 = [[0, 1], [1, 0]]
    # pos: MSE([[0,1],[1,0]], [[0,1],[R,0]]) = (1 - R)^2 / 4
    # neg: MSE(0, [[0,0],[0,R2]]) = R2^2 / 4
    assert float(pos(*_io())) == pytest.approx(10 * (1 - R)**2 / 4, rel=1e-5)
    assert float(neg(*_io())) == pytest.approx(10 * R2**2 / 4, rel=1e-5)
    pos.epoch_factor = 10.0  # epoch_i = 9 (set by the hook)
    assert float(pos(*_io())) == pytest.approx(100 * (1 - R)**2 / 4,
                                               rel=1e-5)
    # an explicit saliency_pos_index wins over labels > 0
    outputs, targets = _io()
    targets['saliency_pos_index'] = torch.zeros(2, 2, dtype=torch.long)
    assert float(pos(outputs, targets)) == 0.0


def test_hard_losses_default_masked_l1_and_mse():
    # default s = [[0, 1], [0, 1]], y = [[0, 1], [1, 0]]
    pos = AdaptiveHardSaliencyLoss('pos', loss_weight=1.0)
    neg = AdaptiveHardSaliencyLoss('neg', loss_weight=1.0)
    # pos: squared errors at P: (1-1)^2 + (1-0)^2 = 1, over 4 valid clips
    assert float(pos(*_io())) == pytest.approx(0.25)
    # neg: |0-0| + |0-1| = 1 over 4 valid clips
    assert float(neg(*_io())) == pytest.approx(0.25)
    # padding changes nothing but the count of valid clips
    scores = torch.cat([SCORES, torch.full((2, 1), 50.)], 1)
    labels = torch.cat([LABELS, torch.zeros(2, 1)], 1)
    mask = torch.tensor([[1., 1, 0], [1, 1, 0]])
    assert float(neg(*_io(scores, labels, mask))) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="part must be 'pos' or 'neg'"):
        AdaptiveHardSaliencyLoss('both')


def test_query_text_nce_hand_computed():
    q = torch.tensor([[[1.], [-1.]]])  # B=1, Q=2, c=1
    t = torch.tensor([[[1.]]])  # T=1
    idx = [(torch.tensor([0]), torch.tensor([0]))]
    # logits [1, -1] (tau 1); matched query 0: -1 + log(e + 1/e)
    want = -1 + math.log(math.e + 1 / math.e)
    assert float(query_text_nce(q, t, idx, 1.0)) == pytest.approx(want)
    assert want == pytest.approx(0.1269, abs=1e-4)


def test_video_text_align_hand_computed():
    text = torch.tensor([[[1., 0.], [0., 1.], [7., 7.]]])
    video = torch.tensor([[[1., 0.], [0., 1.]]])
    tmask = torch.tensor([[1., 1., 0.]])
    vmask = torch.ones(1, 2)
    labels = torch.tensor([[0., 3.]])
    # default: sentence [0.5, 0.5] -> cos [.7071, .7071] -> shifted [0, 0]
    # -> normalised zeros -> cos with labels 0 -> loss 1
    assert float(video_text_align(text, video, tmask, vmask, labels,
                                  False)) == pytest.approx(1.0)
    # official: unmasked mean [8/3, 8/3] -> same cosines -> loss 1 (sum of 1)
    assert float(video_text_align(text, video, tmask, vmask, labels,
                                  True)) == pytest.approx(1.0)
    video = torch.tensor([[[1., 0.], [1., 1.]]])
    # default: cos [.7071, 1] -> [0, .2929] -> [0, 1] -> loss 0
    assert float(video_text_align(text, video, tmask, vmask, labels,
                                  False)) == pytest.approx(0.0, abs=1e-6)


def test_contrastive_align_layers_and_errors():
    g = torch.Generator().manual_seed(0)
    normalize = torch.nn.functional.normalize
    q = normalize(torch.randn(2, 3, 4, generator=g), dim=-1)
    t = normalize(torch.randn(2, 5, 4, generator=g), dim=-1)
    idx = [(torch.tensor([1]), torch.tensor([0])),
           (torch.tensor([0, 2]), torch.tensor([1, 0]))]
    outputs = dict(
        proj_queries=q,
        proj_txt_mem=t,
        aux_outputs=[dict(proj_queries=q.flip(1))],
        src_txt=torch.randn(2, 5, 8, generator=g),
        src_vid=torch.randn(2, 6, 8, generator=g),
        text_mask=torch.ones(2, 5),
        video_mask=torch.ones(2, 6))
    targets = dict(saliency_all_labels=torch.rand(2, 6, generator=g))
    for compat in (False, True):
        loss = ContrastiveAlignLoss(official_compat=compat)
        out = loss(outputs, targets, [idx, idx])
        nce = query_text_nce(q, t, idx, 0.07)
        vt = video_text_align(outputs['src_txt'], outputs['src_vid'],
                              outputs['text_mask'], outputs['video_mask'],
                              targets['saliency_all_labels'], compat)
        torch.testing.assert_close(out['loss_contrastive_align'], nce + vt)
        aux = out['loss_contrastive_align_0']
        assert aux.shape == ((1, ) if compat else ())
        torch.testing.assert_close(
            aux.reshape(()), query_text_nce(q.flip(1), t, idx, 0.07))
    with pytest.raises(ValueError, match='matching of 1 layer'):
        ContrastiveAlignLoss()(outputs, targets, [idx])
