# Copyright (c) mmmrhd contributors. All rights reserved.
"""Build the mmmrhd VideoLights of an official fixture (parity helpers)."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Any, Dict, Mapping, Optional

import torch
from torch import Tensor

from mmmrhd.registry import MODELS
from .fixtures import _REPO_ROOT, _video_streams
from .portable_init import rebuild_official_state_dict, state_dict_sha256

_CONVERTER = osp.join('tools', 'model_converters',
                      'videolights_official_to_mmmrhd.py')


def import_videolights_converter(repo_root: str = _REPO_ROOT) -> ModuleType:
    """Import ``tools/model_converters/videolights_official_to_mmmrhd.py``.
    """
    path = osp.join(repo_root, _CONVERTER)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'VideoLights converter not found at {path}; run from a source '
            'checkout of mmmrhd')
    spec = importlib.util.spec_from_file_location(
        'videolights_official_to_mmmrhd', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text_streams(opt: Mapping[str, Any]) -> list:
    return [dict(name='clip_text', dim=opt['t_feat_dim'])]


def videolights_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd VideoLights config (official-compat) of a fixture.

    Dimensions, layer counts, dropouts and loss settings come from
    ``fx['meta']['opt']`` (the official option namespace).

    Returns:
        dict: A ``MODELS`` config of ``VideoLights``.
    """
    from mmmrhd.models.detectors.videolights import \
        videolights_saliency_loss
    opt = fx['meta']['opt']
    d, heads, ffn = opt['hidden_dim'], opt['nheads'], opt['dim_feedforward']
    dropout = opt['dropout']
    proj = dict(
        type='InputProjection',
        num_layers=opt['n_input_proj'],
        dropout=opt['input_dropout'])
    layer = dict(num_heads=heads, ffn_dim=ffn, dropout=dropout)
    weights = dict(
        loss_span=float(opt['span_loss_coef']),
        loss_giou=float(opt['giou_loss_coef']),
        loss_label=float(opt['label_loss_coef']),
        loss_saliency=float(opt['lw_saliency']))
    contrastive = bool(opt.get('contrastive_align_loss'))
    if contrastive:
        weights['loss_contrastive_align'] = float(
            opt['contrastive_align_loss_coef'])
    return dict(
        type='VideoLights',
        official_compat=True,
        embed_dim=d,
        max_text_len=opt['max_q_l'],
        video_proj=dict(proj, streams=_video_streams(opt)),
        text_proj=dict(proj, streams=_text_streams(opt)),
        fusion=dict(type='BiCMFEncoder', num_layers=opt['bicmf_layers'],
                    **layer),
        encoder=dict(type='TransformerEncoder', num_layers=opt['enc_layers'],
                     **layer),
        decoder=dict(
            type='DABMomentDecoder',
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            **layer),
        feedback=dict(type='SpanGRUFeedback',
                      clip_len=float(opt['clip_length']))
        if opt.get('mr_to_hd_loss') else None,
        align_dim=opt['contrastive_hdim'] if contrastive else None,
        moment_loss=dict(
            type='MomentCriterion',
            matcher=dict(
                type='HungarianMatcher',
                cost_class=opt['set_cost_class'],
                cost_span=opt['set_cost_span'],
                cost_giou=opt['set_cost_giou']),
            loss_label=dict(
                type='CrossEntropyLabelLoss', eos_coef=opt['eos_coef']),
            aux_loss=opt['aux_loss']),
        saliency_loss=videolights_saliency_loss(
            official_compat=True,
            cos_sim_weight=float(opt['cos_sim_loss_coef']),
            mr_to_hd_weight=float(opt['mr_to_hd_loss_coef'])
            if opt.get('mr_to_hd_loss') else None,
            hard_weight=float(opt['hard_pos_neg_loss_coef'])
            if opt.get('hard_pos_neg_loss') else None,
            num_pairs_margin=float(opt['saliency_margin'])),
        align_loss=dict(
            type='ContrastiveAlignLoss', temperature=opt['temperature'])
        if contrastive else None,
        joint_loss=dict(type='WeightedSumLoss', weights=weights,
                        aux=bool(opt['aux_loss'])),
        post_processor=dict(type='MomentPostProcessor'))


def set_videolights_epoch(model: torch.nn.Module,
                          epoch_i: Optional[int]) -> None:
    """Set ``epoch_factor = epoch_i + 1`` on the adaptive losses (what
    ``AdaptiveLossScheduleHook`` does before epoch ``epoch_i``)."""
    for module in model.modules():
        if hasattr(module, 'epoch_factor'):
            module.epoch_factor = float((epoch_i or 0) + 1)


def build_videolights_from_fixture(
        fx: Mapping[str, Any],
        official_state_dict: Optional[Mapping[str, Tensor]] = None,
        check_sha: bool = True) -> torch.nn.Module:
    """Build, convert-load and set up the mmmrhd VideoLights of a fixture.

    The official state_dict is rebuilt from the portable-init table (unless
    given), checked against ``meta['state_dict_sha256']``, converted with
    the repository converter and loaded strictly; eval mode; the adaptive
    losses get the factor of ``fx['meta']['epoch_i']``.

    Returns:
        nn.Module: The ready model (CPU).
    """
    if official_state_dict is None:
        official_state_dict = rebuild_official_state_dict(
            fx['portable_init'], fx.get('portable_init_keep'))
    if check_sha:
        sha = state_dict_sha256(official_state_dict)
        if sha != fx['meta']['state_dict_sha256']:
            raise ValueError(
                f"rebuilt weights of fixture '{fx['meta']['name']}' have "
                f"sha256 {sha}, expected {fx['meta']['state_dict_sha256']}")
    converter = import_videolights_converter()
    cfg = videolights_config_from_fixture(fx)
    state_dict = converter.convert_videolights_official(
        official_state_dict,
        video_streams=cfg['video_proj']['streams'],
        text_streams=cfg['text_proj']['streams'])
    model = MODELS.build(cfg)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    set_videolights_epoch(model, fx['meta']['epoch_i'])
    return model
