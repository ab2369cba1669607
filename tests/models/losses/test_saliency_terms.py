# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.losses import (NegPairLoss, RankContrastiveLoss,
                                  SaliencyHingeLoss, neg_pair_loss,
                                  rank_contrastive_loss, saliency_hinge_loss)
from mmmrhd.registry import MODELS


def _loop_rank_contrastive(scores, mask, labels, scores_neg=None):
    """Literal per-rank loop of the published formula (QD-DETR), used as an
    independent reference for the batched implementation."""
    if scores_neg is not None:
        scores = torch.cat([scores, scores_neg], 1)
        labels = torch.cat([labels, torch.zeros_like(labels)], 1)
        mask = mask.repeat(1, 2)
    scores = mask * scores + (1 - mask) * -1000.0
    total = 0.0
    for rank in range(1, 12):
        pos = labels >= rank
        if pos.sum() == 0:
            continue
        logits = scores / 0.5
        logits = logits - logits.max(1, keepdim=True)[0]
        log_prob = logits - torch.log(logits.exp().sum(1, keepdim=True) +
                                      1e-6)
        per_row = (pos * log_prob * mask).sum(1) / (pos.sum(1) + 1e-6)
        total = total + (-per_row * (pos.sum(1) > 0)).mean()
    return total / 12


# ---------------------------------------------------------------- hinge
def test_hinge_hand_computed():
    scores = torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.3, 2.0]])
    pos = torch.tensor([[0, 2], [2, 1]])
    neg = torch.tensor([[1, 1], [0, 2]])
    # Sample 0: max(0, .2 + .5 - 1) = 0, max(0, .2 + .5 - 0) = .7.
    # Sample 1: max(0, .2 + 0 - 2) = 0, max(0, .2 + 2 - .3) = 1.9.
    # 2.6 / (2 samples * 2 pairs) * 2 = 1.3.
    loss = saliency_hinge_loss(scores, pos, neg, margin=0.2)
    assert loss.item() == pytest.approx(1.3, abs=1e-6)
    module = MODELS.build(dict(type='SaliencyHingeLoss', margin=0.2))
    got = module(
        dict(saliency_scores=scores),
        dict(saliency_pos_labels=pos, saliency_neg_labels=neg))
    assert torch.equal(got, loss)
    # The margin is a knob.
    assert saliency_hinge_loss(scores, pos, neg, margin=0.0).item() == \
        pytest.approx((0.5 + 1.7) / 4 * 2, abs=1e-6)


def test_hinge_errors():
    scores = torch.zeros(2, 3)
    pos = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match=r'saliency_neg_labels must index '
                       r'clips in \[0, 3\)'):
        saliency_hinge_loss(scores, pos, torch.tensor([[0], [3]]))
    with pytest.raises(ValueError, match='saliency_neg_labels must have'):
        saliency_hinge_loss(scores, pos, torch.tensor([[0, 1], [1, 1]]))
    with pytest.raises(ValueError, match='saliency_pos_labels must have'):
        saliency_hinge_loss(scores, pos[:1], pos[:1])
    with pytest.raises(KeyError, match="'saliency_pos_labels' is missing "
                       r"from targets; present: \['saliency_neg_labels'\]"):
        SaliencyHingeLoss()(dict(saliency_scores=scores),
                            dict(saliency_neg_labels=pos))


# ------------------------------------------------------------- neg pair
def test_neg_pair_hand_computed():
    s = torch.tensor([[0.0, math.log(3.0)], [math.log(3.0), 5.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    # -log(1 - sigmoid(s)) = log(1 + e^s): row 0 log 2 + log 4, row 1 log 4
    # (the padded clip is masked); mean over the batch.
    expected = (math.log(2) + math.log(4) + math.log(4)) / 2
    official = neg_pair_loss(s, mask, mode='official')
    stable = neg_pair_loss(s, mask, mode='softplus')
    assert official.item() == pytest.approx(expected, abs=1e-6)
    assert stable.item() == pytest.approx(expected, abs=1e-6)
    module = MODELS.build(dict(type='NegPairLoss', mode='softplus'))
    got = module(dict(saliency_scores_neg=s, video_mask=mask), {})
    assert torch.equal(got, stable)


def test_neg_pair_literal_form_overflows_above_16_64():
    # float32 sigmoid(17) == 1 exactly -> -log(0) = inf; softplus stays
    # finite. A padded clip is enough to poison the gradient (inf * 0).
    s = torch.tensor([[1.0, 17.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 0.0]])
    assert torch.sigmoid(torch.tensor(17.0)).item() == 1.0
    official = neg_pair_loss(s, mask, mode='official')
    assert math.isnan(official.item()) or math.isinf(official.item())
    official.backward()
    assert torch.isnan(s.grad).any()
    s.grad = None
    stable = neg_pair_loss(s, mask, mode='softplus')
    assert stable.item() == pytest.approx(math.log1p(math.e), abs=1e-6)
    stable.backward()
    assert torch.isfinite(s.grad).all()


def test_neg_pair_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        NegPairLoss(mode='stable')
    with pytest.raises(ValueError, match='video_mask must have shape'):
        neg_pair_loss(torch.zeros(2, 3), torch.ones(2, 4))
    with pytest.raises(KeyError, match="'video_mask' is missing from "
                       'outputs'):
        NegPairLoss()(dict(saliency_scores_neg=torch.zeros(2, 3)), {})


# ---------------------------------------------------- rank contrastive
def _log_softmax_eps(z):
    """log p_t = z_t - max - log(sum exp(z - max) + 1e-6), in float64."""
    m = max(z)
    norm = math.log(sum(math.exp(v - m) for v in z) + 1e-6)
    return [v - m - norm for v in z]


def test_rank_contrastive_hand_computed():
    scores = torch.tensor([[1.0, 0.0, 0.5]])
    labels = torch.tensor([[2.0, 1.0, 0.0]])
    mask = torch.ones(1, 3)
    lp = _log_softmax_eps([2.0, 0.0, 1.0])  # scores / tau
    # Rank 1: positives {0, 1}; rank 2: {0}; ranks 3..11: none (skipped).
    rank1 = -(lp[0] + lp[1]) / (2 + 1e-6)
    rank2 = -lp[0] / (1 + 1e-6)
    expected = (rank1 + rank2) / 12
    got = rank_contrastive_loss(scores, mask, labels)
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_rank_contrastive_with_neg_hand_computed():
    scores = torch.tensor([[1.0, 0.0]])
    neg = torch.tensor([[0.5, 0.0]])
    labels = torch.tensor([[2.0, 1.0]])
    mask = torch.ones(1, 2)
    # The negative-pass clips join the softmax with label 0.
    lp = _log_softmax_eps([2.0, 0.0, 1.0, 0.0])
    expected = (-(lp[0] + lp[1]) / (2 + 1e-6) - lp[0] / (1 + 1e-6)) / 12
    got = rank_contrastive_loss(scores, mask, labels, saliency_scores_neg=neg)
    assert got.item() == pytest.approx(expected, abs=1e-6)
    module = MODELS.build(dict(type='RankContrastiveLoss', with_neg=True))
    outputs = dict(
        saliency_scores=scores, saliency_scores_neg=neg, video_mask=mask)
    assert torch.equal(
        module(outputs, dict(saliency_all_labels=labels)), got)
    # with_neg=False ignores the negative pass (TR-DETR).
    pos_only = RankContrastiveLoss(with_neg=False)(
        dict(saliency_scores=scores, video_mask=mask),
        dict(saliency_all_labels=labels))
    lp2 = _log_softmax_eps([2.0, 0.0])
    expected2 = (-(lp2[0] + lp2[1]) / (2 + 1e-6) - lp2[0] / (1 + 1e-6)) / 12
    assert pos_only.item() == pytest.approx(expected2, abs=1e-6)


def test_rank_contrastive_padding_is_ignored():
    scores = torch.tensor([[1.0, 0.0, 0.5, 50.0]])
    labels = torch.tensor([[2.0, 1.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    padded = rank_contrastive_loss(scores, mask, labels)
    unpadded = rank_contrastive_loss(scores[:, :3], mask[:, :3],
                                     labels[:, :3])
    assert padded.item() == pytest.approx(unpadded.item(), abs=1e-7)


def test_rank_contrastive_matches_loop_values_and_grads():
    gen = torch.Generator().manual_seed(3)
    batch, length = 3, 7
    scores = (torch.randn(batch, length, generator=gen) * 3).requires_grad_()
    neg = (torch.randn(batch, length, generator=gen) * 3).requires_grad_()
    mask = torch.ones(batch, length)
    mask[1, 5:] = 0
    mask[2, 3:] = 0
    # Labels up to 9: ranks 10 and 11 have no positive anywhere; sample 2
    # has no positive at all.
    labels = torch.tensor([[0, 3, 9, 4, 0, 9, 1],
                           [6, 6, 0, 2, 8, 0, 0],
                           [0, 0, 0, 0, 0, 0, 0]],
                          dtype=torch.float32)
    for neg_in in (neg, None):
        got = rank_contrastive_loss(scores, mask, labels, neg_in)
        ref = _loop_rank_contrastive(scores, mask, labels, neg_in)
        torch.testing.assert_close(got, ref, atol=1e-6, rtol=1e-6)
        inputs = (scores, neg) if neg_in is not None else (scores, )
        grads = torch.autograd.grad(got, inputs)
        ref_grads = torch.autograd.grad(ref, inputs)
        for g, r in zip(grads, ref_grads):
            torch.testing.assert_close(g, r, atol=1e-6, rtol=1e-5)


def test_rank_contrastive_errors():
    scores = torch.zeros(2, 4)
    mask = torch.ones(2, 4)
    # The official dataset can grow the labels to L + 1 (relevant clip id
    # == L); the official loss then crashes on the shape mismatch.
    with pytest.raises(ValueError, match=r'saliency_all_labels must have '
                       r'shape \(2, 4\), got \(2, 5\)'):
        rank_contrastive_loss(scores, mask, torch.zeros(2, 5))
    with pytest.raises(ValueError, match='saliency_scores_neg must have'):
        rank_contrastive_loss(scores, mask, torch.zeros(2, 4),
                              torch.zeros(2, 3))
    with pytest.raises(KeyError, match="'saliency_scores_neg' is missing"):
        RankContrastiveLoss(with_neg=True)(
            dict(saliency_scores=scores, video_mask=mask),
            dict(saliency_all_labels=torch.zeros(2, 4)))
    with pytest.raises(ValueError, match='need num_ranks >= 1'):
        RankContrastiveLoss(num_ranks=0)
    with pytest.raises(KeyError, match="'saliency_all_labels' is missing"):
        RankContrastiveLoss(with_neg=False)(
            dict(saliency_scores=scores, video_mask=mask), {})
