# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of Moment-DETR (jayleicn/moment_detr fixtures)."""
from typing import Any, Dict, Mapping

from ..fixtures import (official_detector_base, official_encoder_decoder,
                        official_layer, official_moment_loss,
                        official_weight_dict)
from .base import ParityAdapter, register_parity_adapter


def momentdetr_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd MomentDETR config (official-compat) of a fixture."""
    opt = fx['meta']['opt']
    return dict(
        official_detector_base('MomentDETR', opt),
        **official_encoder_decoder(
            opt, official_layer(opt, activation='relu'), 'DETRMomentDecoder'),
        moment_loss=official_moment_loss(opt),
        saliency_loss=dict(
            type='SaliencyCriterion',
            terms=[
                dict(type='SaliencyHingeLoss', margin=opt['saliency_margin'])
            ]),
        joint_loss=dict(
            type='WeightedSumLoss', weights=official_weight_dict(opt)),
        post_processor=dict(type='MomentPostProcessor'))


@register_parity_adapter
class MomentDETRAdapter(ParityAdapter):
    """Moment-DETR: no negative pair, hinge-only saliency loss."""
    name = 'momentdetr'
    repos = ('jayleicn/moment_detr', )
    converter_file = 'moment_detr_official_to_mmmrhd.py'
    convert_fn = 'convert_moment_detr_official'

    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return momentdetr_config_from_fixture(fx)
