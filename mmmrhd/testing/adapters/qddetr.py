# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of QD-DETR (wjun0830/QD-DETR fixtures)."""
from typing import Any, Dict, Mapping

from ..fixtures import (official_detector_base, official_encoder_decoder,
                        official_layer, official_moment_loss,
                        official_weight_dict)
from .base import ParityAdapter, register_parity_adapter


def qddetr_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd QDDETR config (official-compat) of a fixture's options."""
    opt = fx['meta']['opt']
    layer = official_layer(opt)
    return dict(
        official_detector_base('QDDETR', opt),
        fusion=dict(type='T2VEncoder', num_layers=opt['enc_layers'], **layer),
        **official_encoder_decoder(opt, layer),
        moment_loss=official_moment_loss(opt),
        saliency_loss=dict(
            type='SaliencyCriterion',
            terms=[
                dict(type='SaliencyHingeLoss',
                     margin=opt['saliency_margin']),
                dict(type='RankContrastiveLoss', with_neg=True),
                dict(type='NegPairLoss', mode='official'),
            ]),
        joint_loss=dict(
            type='WeightedSumLoss', weights=official_weight_dict(opt)),
        post_processor=dict(type='MomentPostProcessor'))


@register_parity_adapter
class QDDETRAdapter(ParityAdapter):
    """QD-DETR: weighted-sum total (official ``train.py`` L64-67)."""
    name = 'qddetr'
    repos = ('wjun0830/QD-DETR', )
    converter_file = 'qd_detr_official_to_mmmrhd.py'
    convert_fn = 'convert_qd_detr_official'

    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return qddetr_config_from_fixture(fx)
