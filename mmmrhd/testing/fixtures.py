# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load official reference fixtures; model-independent helpers.

Used by the parity tests and the parity CLI. A model fixture
(``shared/fixtures/<model>.pth``, see its README) holds the official
``inputs``/``targets``/``batch_meta``, the portable-init weight table and
the official options in ``meta['opt']``. What is specific to one model
(its config, converter and set-up) lives in its parity adapter
(:mod:`mmmrhd.testing.adapters`).
"""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional

import torch
from torch import Tensor

#: Official feature directories -> (stream name, width).
_KNOWN_VIDEO_SOURCES = {
    'slowfast_features': ('slowfast', 2304),
    'clip_features': ('clip', 512),
}
_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_CONVERTER_DIR = osp.join('tools', 'model_converters')
# In an installed wheel the tools are package data (setup.py: mmmrhd/.mim).
_MIM_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')


def load_fixture(path: str) -> Dict[str, Any]:
    """``torch.load(path, weights_only=True)`` with a clear missing-file
    error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'fixture not found: {path}')
    return torch.load(path, map_location='cpu', weights_only=True)


def import_converter(filename: str, repo_root: str = _REPO_ROOT) -> ModuleType:
    """Import ``tools/model_converters/<filename>``.

    The converters are repository tools; an installed wheel has them in
    ``mmmrhd/.mim/tools/model_converters``, which is used when the default
    ``repo_root`` has no ``tools/``.

    Args:
        filename (str): e.g. ``'qd_detr_official_to_mmmrhd.py'``.
        repo_root (str): Repository root. Defaults to the one containing
            this package.

    Returns:
        ModuleType: The converter module.
    """
    roots = [repo_root] + ([_MIM_ROOT] if repo_root == _REPO_ROOT else [])
    dirs = [osp.join(root, _CONVERTER_DIR) for root in roots]
    path = next((osp.join(d, filename) for d in dirs
                 if osp.isfile(osp.join(d, filename))), None)
    if path is None:
        raise FileNotFoundError(
            f'converter {filename} not found in {" nor ".join(dirs)}; run '
            'from a source checkout of mmmrhd or an installed wheel')
    spec = importlib.util.spec_from_file_location(
        osp.splitext(filename)[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_inputs(fx: Mapping[str, Any]) -> Dict[str, Tensor]:
    """The official forward inputs under mmmrhd names.

    Returns:
        dict[str, Tensor]: ``video_feat``, ``video_mask``, ``text_feat``,
        ``text_mask``.
    """
    inp = fx['inputs']
    return dict(
        video_feat=inp['src_vid'],
        video_mask=inp['src_vid_mask'],
        text_feat=inp['src_txt'],
        text_mask=inp['src_txt_mask'])


def fixture_data_samples(fx: Mapping[str, Any],
                         clip_len: float = 2.0) -> List[Dict[str, Any]]:
    """Per-sample dicts of the data contract from a fixture.

    Ground truth comes from the official ``targets`` (``span_labels``,
    pos/neg labels, ``saliency_all_labels`` cut to the sample's length);
    ``ann`` is the official meta record.

    Args:
        fx (Mapping): A model fixture.
        clip_len (float): Seconds per clip. Defaults to 2.

    Returns:
        list[dict]: One dict per sample.
    """
    targets = fx['targets']
    lengths = fx['inputs']['src_vid_mask'].sum(1).long().tolist()
    samples = []
    for i, meta in enumerate(fx['batch_meta']):
        num_clips = lengths[i]
        sample = dict(
            qid=meta['qid'],
            query=meta['query'],
            vid=meta['vid'],
            duration=float(meta['duration']),
            clip_len=clip_len,
            num_clips=num_clips,
            gt_windows=torch.tensor(
                meta['relevant_windows'], dtype=torch.float32),
            gt_spans=targets['span_labels'][i]['spans'],
            ann=meta)
        for key in ('saliency_pos_labels', 'saliency_neg_labels'):
            if key in targets:
                sample[key] = targets[key][i]
        if 'saliency_all_labels' in targets:
            sample['saliency_all_labels'] = targets['saliency_all_labels'][
                i, :num_clips]
        samples.append(sample)
    return samples


def official_video_streams(opt: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The ``InputProjection`` stream layout of the official video input.

    Known feature directories (``slowfast_features``, ``clip_features``)
    give named streams; anything else one ``video`` stream; plus ``tef``
    (2 columns) with ``ctx_mode`` ``*tef*``.

    Args:
        opt (Mapping): Official options (``fx['meta']['opt']``).

    Returns:
        list[dict]: ``dict(name, dim)`` per stream, widths summing to
        ``opt['v_feat_dim']``.
    """
    streams, total = [], 0
    for d in opt.get('v_feat_dirs') or []:
        known = _KNOWN_VIDEO_SOURCES.get(osp.basename(osp.normpath(d)))
        if known is None:
            streams = []
            break
        streams.append(dict(name=known[0], dim=known[1]))
        total += known[1]
    tef = 2 if 'tef' in opt.get('ctx_mode', '') else 0
    if not streams or total + tef != opt['v_feat_dim']:
        streams = [dict(name='video', dim=opt['v_feat_dim'] - tef)]
    if tef:
        streams.append(dict(name='tef', dim=tef))
    return streams


def official_text_streams(opt: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The text stream layout (one CLIP-token stream of ``t_feat_dim``)."""
    return [dict(name='clip_text', dim=opt['t_feat_dim'])]


def official_input_projection(opt: Mapping[str, Any]) -> Dict[str, Any]:
    """``InputProjection`` config shared by the video and text projections
    (official ``n_input_proj``, ``input_dropout``)."""
    return dict(
        type='InputProjection',
        num_layers=opt['n_input_proj'],
        dropout=opt['input_dropout'])


def official_layer(opt: Mapping[str, Any], **extra: Any) -> Dict[str, Any]:
    """Attention layer settings (official ``nheads``, ``dim_feedforward``,
    ``dropout``) plus ``extra``."""
    return dict(
        num_heads=opt['nheads'],
        ffn_dim=opt['dim_feedforward'],
        dropout=opt['dropout'],
        **extra)


def official_detector_base(detector: str,
                           opt: Mapping[str, Any]) -> Dict[str, Any]:
    """The first entries of an official-compat detector config: ``type``,
    ``official_compat=True``, ``embed_dim`` (``hidden_dim``),
    ``max_text_len`` (``max_q_l``) and both input projections with the
    official stream layouts."""
    proj = official_input_projection(opt)
    return dict(
        type=detector,
        official_compat=True,
        embed_dim=opt['hidden_dim'],
        max_text_len=opt['max_q_l'],
        video_proj=dict(proj, streams=official_video_streams(opt)),
        text_proj=dict(proj, streams=official_text_streams(opt)))


def official_encoder_decoder(
        opt: Mapping[str, Any],
        layer: Mapping[str, Any],
        decoder: str = 'DABMomentDecoder') -> Dict[str, Dict[str, Any]]:
    """``encoder`` (``TransformerEncoder``, ``enc_layers``) and ``decoder``
    (``dec_layers``, ``num_queries``) configs with the ``layer`` settings."""
    return dict(
        encoder=dict(
            type='TransformerEncoder', num_layers=opt['enc_layers'], **layer),
        decoder=dict(
            type=decoder,
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            **layer))


def official_moment_loss(opt: Mapping[str, Any],
                         label_loss: Optional[Mapping[str, Any]] = None
                         ) -> Dict[str, Any]:
    """``MomentCriterion`` config from the official matcher/loss options.

    Args:
        opt (Mapping): Official options.
        label_loss (Mapping, optional): Label loss config. Defaults to
            ``CrossEntropyLabelLoss`` with the official ``eos_coef``.
    """
    if label_loss is None:
        label_loss = dict(type='CrossEntropyLabelLoss',
                          eos_coef=opt['eos_coef'])
    return dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher',
            cost_class=opt['set_cost_class'],
            cost_span=opt['set_cost_span'],
            cost_giou=opt['set_cost_giou']),
        loss_label=dict(label_loss),
        aux_loss=opt['aux_loss'])


def official_weight_dict(opt: Mapping[str, Any]) -> Dict[str, float]:
    """``WeightedSumLoss`` weights of the official ``weight_dict``
    (``loss_span/giou/label`` coefficients and ``lw_saliency``)."""
    return dict(
        loss_span=float(opt['span_loss_coef']),
        loss_giou=float(opt['giou_loss_coef']),
        loss_label=float(opt['label_loss_coef']),
        loss_saliency=float(opt['lw_saliency']))
