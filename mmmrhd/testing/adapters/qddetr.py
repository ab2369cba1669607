# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of QD-DETR (wjun0830/QD-DETR fixtures)."""
from typing import Any, Dict, Mapping

from ..fixtures import (official_input_projection, official_moment_loss,
                        official_text_streams, official_video_streams,
                        official_weight_dict)
from .base import ParityAdapter, register_parity_adapter


def qddetr_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd QDDETR config (official-compat) of a fixture's options."""
    opt = fx['meta']['opt']
    d, heads, ffn = opt['hidden_dim'], opt['nheads'], opt['dim_feedforward']
    layer = dict(num_heads=heads, ffn_dim=ffn, dropout=opt['dropout'])
    proj = official_input_projection(opt)
    return dict(
        type='QDDETR',
        official_compat=True,
        embed_dim=d,
        max_text_len=opt['max_q_l'],
        video_proj=dict(proj, streams=official_video_streams(opt)),
        text_proj=dict(proj, streams=official_text_streams(opt)),
        fusion=dict(type='T2VEncoder', num_layers=opt['enc_layers'], **layer),
        encoder=dict(
            type='TransformerEncoder', num_layers=opt['enc_layers'], **layer),
        decoder=dict(
            type='DABMomentDecoder',
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            **layer),
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
