# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.losses import (ClipTextAlignmentLoss,
                                  VideoTextContrastiveLoss,
                                  clip_text_alignment_loss,
                                  video_text_contrastive_loss)
from mmmrhd.registry import MODELS

TAU = 0.07


def _softplus(x):
    return math.log1p(math.exp(x))


def _outputs(video, text, video_mask, text_mask):
    return dict(src_vid_ed=video, src_txt_ed=text, video_mask=video_mask,
                text_mask=text_mask)


def test_ctc_hand_computed():
    # clip 0 = the sentence direction (sim 1), clip 1 orthogonal (sim 0)
    video = torch.tensor([[[2.0, 0.0], [0.0, 3.0]]])
    # token 1 is padding: the sentence is token 0 only
    text = torch.tensor([[[5.0, 0.0], [0.0, 1.0]]])
    tmask = torch.tensor([[1.0, 0.0]])
    pos = torch.tensor([[1.0, 0.0]])
    both = torch.ones(1, 2)
    l0 = _softplus(-1 / TAU)  # BCE(1/tau, 1)
    l1 = math.log(2.0)  # BCE(0, 0)
    loss = clip_text_alignment_loss(video, text, pos, both, tmask)
    assert loss.item() == pytest.approx((l0 + l1) / 2, rel=1e-5)
    # clip 1 padded: the default averages over valid clips only, the
    # release over all clips (log 2 from the padded one)
    vmask = torch.tensor([[1.0, 0.0]])
    loss = clip_text_alignment_loss(video, text, pos, vmask, tmask)
    assert loss.item() == pytest.approx(l0, rel=1e-5)
    loss = clip_text_alignment_loss(video, text, pos, vmask, tmask,
                                    official_compat=True)
    assert loss.item() == pytest.approx((l0 + l1) / 2, rel=1e-5)


def test_vtc_hand_computed():
    v = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    # logits = I / tau: each CE row = log(1 + e^{-1/tau})
    # (tau = 0.5 keeps the hand value far from float32 rounding)
    assert video_text_contrastive_loss(v, t, 0.5).item() == pytest.approx(
        _softplus(-2.0), rel=1e-5)
    # swapped pairs: each CE row = log(1 + e^{1/tau})
    assert video_text_contrastive_loss(v, t.flip(0), 0.5).item() == \
        pytest.approx(_softplus(2.0), rel=1e-5)
    # B = 1: nothing to contrast
    assert video_text_contrastive_loss(v[:1], t[:1]).item() == 0.0


def test_vtc_module_masked_vs_unmasked_mean():
    # sample 0's padded clip points the other way: it changes the
    # unmasked (official) mean only
    video = torch.tensor([[[1.0, 0.0], [0.0, 9.0]], [[0.0, 1.0], [0.0, 1.0]]])
    text = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    vmask = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    tmask = torch.ones(2, 1)
    out = _outputs(video, text, vmask, tmask)
    loss = MODELS.build(
        dict(type='VideoTextContrastiveLoss', temperature=0.5))(out, {})
    assert list(loss) == ['loss_vtc']
    assert loss['loss_vtc'].item() == pytest.approx(_softplus(-2.0),
                                                    rel=1e-5)
    official = VideoTextContrastiveLoss(
        temperature=0.5, official_compat=True,
        loss_weight=0.3)(out, {})['loss_vtc']
    ref = 0.3 * video_text_contrastive_loss(video.mean(1), text.mean(1), 0.5)
    torch.testing.assert_close(official, ref)
    assert official.item() != pytest.approx(0.3 * loss['loss_vtc'].item())


def test_ctc_module_and_errors():
    torch.manual_seed(0)
    video, text = torch.randn(2, 4, 3), torch.randn(2, 5, 3)
    vmask = torch.tensor([[1.0] * 4, [1.0, 1, 0, 0]])
    tmask = torch.tensor([[1.0] * 5, [1.0, 0, 0, 0, 0]])
    pos = torch.tensor([[0.0, 1, 1, 0], [1.0, 0, 0, 0]])
    crit = ClipTextAlignmentLoss(loss_weight=0.5, name='loss_local')
    loss = crit(_outputs(video, text, vmask, tmask), dict(src_pos_mask=pos))
    ref = 0.5 * clip_text_alignment_loss(video, text, pos, vmask, tmask)
    torch.testing.assert_close(loss['loss_local'], ref)
    with pytest.raises(KeyError, match="'src_pos_mask' is missing"):
        crit(_outputs(video, text, vmask, tmask), {})
    with pytest.raises(ValueError, match='does not match the video'):
        crit(_outputs(video, text, vmask, tmask),
             dict(src_pos_mask=torch.zeros(2, 5)))
    with pytest.raises(KeyError, match="'text_mask' is missing"):
        crit(dict(src_vid_ed=video, src_txt_ed=text, video_mask=vmask),
             dict(src_pos_mask=pos))
    with pytest.raises(ValueError, match='src_txt_ed must have shape'):
        crit(_outputs(video, torch.randn(2, 5, 4), vmask, tmask),
             dict(src_pos_mask=pos))
    with pytest.raises(ValueError, match='temperature must be > 0'):
        ClipTextAlignmentLoss(temperature=0)
    with pytest.raises(ValueError, match="name must start with 'loss'"):
        VideoTextContrastiveLoss(name='vtc')
