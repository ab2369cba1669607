# Copyright (c) mmmrhd contributors. All rights reserved.
"""``extra_losses`` of the detectors: TR-DETR's alignment losses on
TaskWeave (the mixed-parts setting of configs/mixed/)."""
import pytest
import torch

from mmmrhd.models.losses import (clip_text_alignment_loss,
                                  video_text_contrastive_loss)
from mmmrhd.registry import MODELS
from test_taskweave import batch, small_cfg  # noqa: E402 (same directory)

ALIGN = [
    dict(type='VideoTextContrastiveLoss', loss_weight=0.3),
    dict(type='ClipTextAlignmentLoss', loss_weight=0.5),
]


def _batch_with_pos_mask():
    data = batch()
    for ds in data['data_samples']:
        mask = torch.zeros(ds['num_clips'])
        mask[3:6] = 1
        ds['pos_mask'] = mask
    return data


def test_taskweave_with_alignment_losses():
    torch.manual_seed(0)
    model = MODELS.build(
        small_cfg(
            extra_losses=ALIGN,
            joint_loss=dict(
                type='UncertaintyJointLoss',
                hd_keys=('loss_saliency', 'loss_vtc', 'loss_ctc')))).eval()
    data = _batch_with_pos_mask()
    inputs, samples = data['inputs'], data['data_samples']
    raw = model.raw_losses(inputs, samples)
    assert list(raw)[-2:] == ['loss_vtc', 'loss_ctc']
    out = model(inputs, mode='tensor')
    pos = torch.stack([
        torch.nn.functional.pad(ds['pos_mask'],
                                (0, inputs['video_mask'].shape[1] -
                                 ds['num_clips'])) for ds in samples
    ])
    ref_ctc = 0.5 * clip_text_alignment_loss(
        out['src_vid_ed'], out['src_txt_ed'], pos, inputs['video_mask'],
        inputs['text_mask'])
    vm, tm = inputs['video_mask'][..., None], inputs['text_mask'][..., None]
    ref_vtc = 0.3 * video_text_contrastive_loss(
        (out['src_vid_ed'] * vm).sum(1) / vm.sum(1),
        (out['src_txt_ed'] * tm).sum(1) / tm.sum(1))
    torch.testing.assert_close(raw['loss_ctc'], ref_ctc)
    torch.testing.assert_close(raw['loss_vtc'], ref_vtc)
    # the joint loss sees them in its HD group (the MR group expects
    # auxiliary-layer copies, which the alignment terms do not have)
    log = model.loss(inputs, samples)
    torch.testing.assert_close(
        log['loss_hd'],
        raw['loss_saliency'] + raw['loss_vtc'] + raw['loss_ctc'])
    log['loss'].backward()
    assert model.video_proj.layers[0].fc.weight.grad is not None


def test_extra_loss_errors():
    torch.manual_seed(0)
    data = _batch_with_pos_mask()
    model = MODELS.build(
        small_cfg(
            extra_losses=[
                dict(type='ClipTextAlignmentLoss', name='loss_saliency')
            ],
            joint_loss=None)).eval()
    with pytest.raises(KeyError, match="returns keys \\['loss_saliency'\\]"):
        model.raw_losses(data['inputs'], data['data_samples'])
    # an alignment loss key outside the joint loss groups is an error, not
    # silently dropped
    model = MODELS.build(small_cfg(extra_losses=ALIGN[:1])).eval()
    with pytest.raises(KeyError, match='loss_vtc'):
        model.loss(data['inputs'], data['data_samples'])
