# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of VideoLights (dpaul06/VideoLights fixtures)."""
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from ..fixtures import (import_converter, official_detector_base,
                        official_encoder_decoder, official_layer,
                        official_moment_loss, official_weight_dict)
from .base import PARITY_ADAPTERS, ParityAdapter, register_parity_adapter

VIDEOLIGHTS_CONVERTER = 'videolights_official_to_mmmrhd.py'


def import_videolights_converter():
    """Import ``tools/model_converters/videolights_official_to_mmmrhd.py``.
    """
    return import_converter(VIDEOLIGHTS_CONVERTER)


def videolights_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd VideoLights config (official-compat) of a fixture.

    Dimensions, layer counts (``enc_layers`` / ``dec_layers`` /
    ``bicmf_layers``), dropouts, the optional parts (``mr_to_hd_loss``,
    ``hard_pos_neg_loss``, ``contrastive_align_loss``) and every loss
    coefficient come from ``fx['meta']['opt']``.

    Returns:
        dict: A ``MODELS`` config of ``VideoLights``.
    """
    from mmmrhd.models.detectors.videolights import \
        videolights_saliency_loss
    opt = fx['meta']['opt']
    layer = official_layer(opt)
    weights = official_weight_dict(opt)
    contrastive = bool(opt.get('contrastive_align_loss'))
    if contrastive:
        weights['loss_contrastive_align'] = float(
            opt['contrastive_align_loss_coef'])
    mr_to_hd = bool(opt.get('mr_to_hd_loss'))
    return dict(
        official_detector_base('VideoLights', opt),
        fusion=dict(
            type='BiCMFEncoder', num_layers=opt['bicmf_layers'], **layer),
        **official_encoder_decoder(opt, layer),
        feedback=dict(
            type='SpanGRUFeedback', clip_len=float(opt['clip_length']))
        if mr_to_hd else None,
        align_dim=opt['contrastive_hdim'] if contrastive else None,
        moment_loss=official_moment_loss(opt),
        saliency_loss=videolights_saliency_loss(
            official_compat=True,
            cos_sim_weight=float(opt['cos_sim_loss_coef']),
            mr_to_hd_weight=float(opt['mr_to_hd_loss_coef'])
            if mr_to_hd else None,
            hard_weight=float(opt['hard_pos_neg_loss_coef'])
            if opt.get('hard_pos_neg_loss') else None,
            num_pairs_margin=float(opt['saliency_margin'])),
        align_loss=dict(
            type='ContrastiveAlignLoss', temperature=opt['temperature'])
        if contrastive else None,
        joint_loss=dict(
            type='WeightedSumLoss', weights=weights,
            aux=bool(opt['aux_loss'])),
        post_processor=dict(type='MomentPostProcessor'))


def set_videolights_epoch(model: nn.Module, epoch_i: Optional[int]) -> None:
    """``epoch_factor = epoch_i + 1`` on the adaptive losses: what
    ``AdaptiveLossScheduleHook`` sets before 0-based epoch ``epoch_i``
    (official ``criterion(out, targets, epoch_i)``)."""
    for module in model.modules():
        if hasattr(module, 'epoch_factor'):
            module.epoch_factor = float((epoch_i or 0) + 1)


@register_parity_adapter
class VideoLightsAdapter(ParityAdapter):
    """VideoLights: epoch-dependent hard losses (``epoch_i`` of the
    fixture), the alignment loss (needs the matching and the text mask),
    Uni-JFM ``saliency_scores_mr`` and the alignment features."""
    name = 'videolights'
    repos = ('dpaul06/VideoLights', )
    converter_file = VIDEOLIGHTS_CONVERTER
    convert_fn = 'convert_videolights_official'
    output_keys = ('pred_logits', 'pred_spans', 'saliency_scores',
                   'saliency_scores_neg', 'saliency_scores_mr',
                   'proj_queries', 'proj_txt_mem', 'src_txt', 'src_vid',
                   'video_mask')

    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return videolights_config_from_fixture(fx)

    def prepare(self, model: nn.Module, fx: Mapping[str, Any]) -> None:
        model.eval()
        set_videolights_epoch(model, fx['meta']['epoch_i'])

    def losses_on_official_outputs(
            self, model: nn.Module,
            fx: Mapping[str, Any]) -> Tuple[Dict[str, Tensor], list]:
        outputs = dict(fx['outputs'])
        outputs.setdefault('text_mask', fx['inputs']['src_txt_mask'])
        losses = model.losses_from_outputs(outputs, dict(fx['targets']))
        indices = (model.moment_loss.last_indices
                   if model.moment_loss is not None else [])
        return losses, indices


def build_videolights_from_fixture(
        fx: Mapping[str, Any],
        official_state_dict: Optional[Mapping[str, Tensor]] = None,
        check_sha: bool = True) -> torch.nn.Module:
    """Build, convert-load and set up the mmmrhd VideoLights of a fixture
    (:meth:`ParityAdapter.build_model` of :class:`VideoLightsAdapter`)."""
    return PARITY_ADAPTERS['videolights'].build_model(
        fx, official_state_dict, check_sha)
