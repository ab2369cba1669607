# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of TR-DETR (mingyao1120/TR-DETR fixtures)."""
from typing import Any, Dict, List, Mapping, Tuple

import torch
from torch import Tensor, nn

from ..compare import OUT_TOL, ParityRow, compare
from ..fixtures import (fixture_data_samples, official_detector_base,
                        official_encoder_decoder, official_layer,
                        official_moment_loss, official_weight_dict)
from .base import ParityAdapter, register_parity_adapter

#: fx['loss_extra'] key -> our loss key.
ALIGNMENT_KEYS = dict(loss_vtc='loss_vtc', loss_ctc='loss_ctc')


def trdetr_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd TRDETR config (official-compat) of a fixture's options."""
    opt = fx['meta']['opt']
    layer = official_layer(opt)
    weights = official_weight_dict(opt)
    weights.update(
        loss_vtc=float(opt['VTC_loss_coef']),
        loss_ctc=float(opt['CTC_loss_coef']))
    return dict(
        official_detector_base('TRDETR', opt),
        # official VSLFuser(d) keeps its default drop_rate 0.1
        refiner=dict(type='ContextQueryFuser', dropout=0.1),
        fusion=dict(type='T2VEncoder', num_layers=opt['enc_layers'], **layer),
        **official_encoder_decoder(opt, layer),
        # official TRDETR(clip_len=opt.clip_length) (model.py build_model)
        mr2hd=dict(
            type='SpanGRUFeedback',
            clip_len=float(opt.get('clip_length', 2))),
        moment_loss=official_moment_loss(
            opt, label_loss=dict(type='SigmoidFocalLabelLoss')),
        saliency_loss=dict(
            type='SaliencyCriterion',
            terms=[
                dict(type='SaliencyHingeLoss',
                     margin=opt['saliency_margin']),
                dict(type='RankContrastiveLoss', with_neg=False),
            ]),
        joint_loss=dict(
            type='WeightedSumLoss',
            weights=weights,
            aux_exclude=('loss_saliency', 'loss_vtc', 'loss_ctc')),
        post_processor=dict(type='MomentPostProcessor'))


@register_parity_adapter
class TRDETRAdapter(ParityAdapter):
    """TR-DETR: weighted sum + ``VTC_coef * VTC + CTC_coef * CTC``
    (official ``train.py`` L64-83); the alignment terms are compared with
    ``fx['loss_extra']``."""
    name = 'trdetr'
    repos = ('mingyao1120/TR-DETR', )
    converter_file = 'tr_detr_official_to_mmmrhd.py'
    convert_fn = 'convert_tr_detr_official'
    output_keys = ('pred_logits', 'pred_spans', 'saliency_scores',
                   'src_txt_ed', 'src_vid_ed', 'src_vid_cls_ed',
                   'src_txt_cls_ed')

    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return trdetr_config_from_fixture(fx)

    def data_samples(self, fx: Mapping[str, Any]) -> List[Dict[str, Any]]:
        samples = fixture_data_samples(fx)
        pos_mask = fx['targets']['src_pos_mask']
        if pos_mask.shape[1] != fx['inputs']['src_vid_mask'].shape[1]:
            raise ValueError(
                f"fixture src_pos_mask {tuple(pos_mask.shape)} does not match "
                f"the video {tuple(fx['inputs']['src_vid_mask'].shape)}")
        for i, sample in enumerate(samples):
            # the padded tail is zero; keep it so that collation restores
            # the official (B, L) target exactly
            sample['pos_mask'] = pos_mask[i]
        return samples

    def _official_outputs(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return dict(fx['outputs'], text_mask=fx['inputs']['src_txt_mask'])

    def losses_on_official_outputs(
            self, model: nn.Module,
            fx: Mapping[str, Any]) -> Tuple[Dict[str, Tensor], list]:
        losses, indices = super().losses_on_official_outputs(model, fx)
        outputs = self._official_outputs(fx)
        for term in model.extra_losses:
            losses.update(term(outputs, fx['targets']))
        return losses, indices

    def extra_rows(self, model: nn.Module, fx: Mapping[str, Any],
                   outputs: Mapping[str, Any],
                   log_vars: Mapping[str, Tensor]) -> List[ParityRow]:
        """Alignment losses (on the official outputs and in the chain)."""
        extra = fx.get('loss_extra') or {}
        rows = []
        with torch.no_grad():
            official_out = self._official_outputs(fx)
            on_official = {}
            for term in model.extra_losses:
                on_official.update(term(official_out, fx['targets']))
        for ref_key, key in ALIGNMENT_KEYS.items():
            if ref_key not in extra:
                continue
            rows.append(
                compare('losses', f'on_official_outputs/{key}',
                        on_official[key], extra[ref_key], *OUT_TOL))
            if key in log_vars:
                rows.append(
                    compare('losses', f'chain/{key}', log_vars[key],
                            extra[ref_key], *OUT_TOL))
        return rows
