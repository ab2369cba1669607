# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of Moment-DETR (jayleicn/moment_detr fixtures)."""
from typing import Any, Dict, Mapping

from ..fixtures import (official_input_projection, official_moment_loss,
                        official_text_streams, official_video_streams,
                        official_weight_dict)
from .base import ParityAdapter, register_parity_adapter


def momentdetr_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd MomentDETR config (official-compat) of a fixture."""
    opt = fx['meta']['opt']
    d, heads, ffn = opt['hidden_dim'], opt['nheads'], opt['dim_feedforward']
    layer = dict(
        num_heads=heads, ffn_dim=ffn, dropout=opt['dropout'],
        activation='relu')
    proj = official_input_projection(opt)
    return dict(
        type='MomentDETR',
        official_compat=True,
        embed_dim=d,
        max_text_len=opt['max_q_l'],
        video_proj=dict(proj, streams=official_video_streams(opt)),
        text_proj=dict(proj, streams=official_text_streams(opt)),
        encoder=dict(
            type='TransformerEncoder', num_layers=opt['enc_layers'], **layer),
        decoder=dict(
            type='DETRMomentDecoder',
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            **layer),
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
