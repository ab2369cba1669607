# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load official reference fixtures and build the matching mmmrhd model.

Used by the parity tests and the parity CLI. A model fixture
(``shared/fixtures/<model>.pth``, see its README) holds the official
``inputs``/``targets``/``batch_meta``, the portable-init weight table and
the official options in ``meta['opt']``.
"""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional

import torch
from torch import Tensor

from mmmrhd.registry import MODELS
from .portable_init import rebuild_official_state_dict, state_dict_sha256

#: Official feature directories -> (stream name, width).
_KNOWN_VIDEO_SOURCES = {
    'slowfast_features': ('slowfast', 2304),
    'clip_features': ('clip', 512),
}
#: Official TaskWeave feedback onset: ``epoch_i + 1 > 100``
#: (``taskweave/model.py`` L131, L165).
TASKWEAVE_FEEDBACK_EPOCH_THRES = 100
_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_CONVERTER = osp.join('tools', 'model_converters',
                      'taskweave_official_to_mmmrhd.py')


def load_fixture(path: str) -> Dict[str, Any]:
    """``torch.load(path, weights_only=True)`` with a clear missing-file
    error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'fixture not found: {path}')
    return torch.load(path, map_location='cpu', weights_only=True)


def import_taskweave_converter(repo_root: str = _REPO_ROOT) -> ModuleType:
    """Import ``tools/model_converters/taskweave_official_to_mmmrhd.py``.

    The converter is a repository tool, not part of the installed package.

    Args:
        repo_root (str): Repository root. Defaults to the one containing
            this package.

    Returns:
        ModuleType: The converter module.
    """
    path = osp.join(repo_root, _CONVERTER)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'TaskWeave converter not found at {path}; run from a source '
            'checkout of mmmrhd')
    spec = importlib.util.spec_from_file_location(
        'taskweave_official_to_mmmrhd', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def taskweave_feedback_active(epoch_i: Optional[int]) -> bool:
    """Official feedback switch: on iff ``epoch_i is None or epoch_i + 1 >
    100``."""
    return epoch_i is None or epoch_i + 1 > TASKWEAVE_FEEDBACK_EPOCH_THRES


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


def _video_streams(opt: Mapping[str, Any]) -> List[Dict[str, Any]]:
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


def taskweave_variant(fx: Mapping[str, Any]) -> str:
    """``'hd2mr'`` or ``'mr2hd'`` from ``fx['meta']['model_variant']``."""
    variant = fx['meta']['model_variant'].upper()
    for name in ('HD2MR', 'MR2HD'):
        if name in variant:
            return name.lower()
    raise ValueError(f'not a TaskWeave fixture variant: '
                     f"{fx['meta']['model_variant']!r}")


def taskweave_config_from_fixture(fx: Mapping[str, Any]) -> Dict[str, Any]:
    """The mmmrhd TaskWeave config (official-compat) of a fixture.

    Dimensions, layer counts, dropouts, loss settings and the feedback
    manner come from ``fx['meta']`` (``opt``, ``model_variant``).

    Returns:
        dict: A ``MODELS`` config of ``TaskWeave``.
    """
    opt = fx['meta']['opt']
    d, heads, ffn = opt['hidden_dim'], opt['nheads'], opt['dim_feedforward']
    dropout = opt['dropout']
    proj = dict(
        type='InputProjection',
        num_layers=opt['n_input_proj'],
        dropout=opt['input_dropout'])
    return dict(
        type='TaskWeave',
        official_compat=True,
        embed_dim=d,
        max_text_len=opt['max_q_l'],
        video_proj=dict(proj, streams=_video_streams(opt)),
        text_proj=dict(
            proj, streams=[dict(name='clip_text', dim=opt['t_feat_dim'])]),
        fusion=dict(
            type='T2VEncoder',
            num_layers=opt['enc_layers'],
            num_heads=heads,
            ffn_dim=ffn,
            dropout=dropout),
        neck=dict(
            type='TaskDecoupledUnit',
            shared_expert=dict(
                type='TransformerExpert',
                num_layers=2,  # hard-coded in the release (L81)
                num_heads=heads,
                ffn_dim=ffn,
                dropout=dropout)),
        decoder=dict(
            type='DABMomentDecoder',
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            num_heads=heads,
            ffn_dim=ffn,
            dropout=dropout),
        feedback=dict(type='FeedbackHead', manner=taskweave_variant(fx)),
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
        saliency_loss=dict(type='SaliencyCriterion'),
        joint_loss=dict(type='UncertaintyJointLoss'),
        post_processor=dict(type='MomentPostProcessor'))


def build_taskweave_from_fixture(fx: Mapping[str, Any],
                                 official_state_dict: Optional[Mapping[
                                     str, Tensor]] = None,
                                 check_sha: bool = True) -> torch.nn.Module:
    """Build, convert-load and set up the mmmrhd TaskWeave of a fixture.

    The official state_dict is rebuilt from the portable-init table (unless
    given), checked against ``meta['state_dict_sha256']``, converted with
    the repository converter and loaded strictly. The model is put in eval
    mode and ``feedback_active`` follows the fixture's ``epoch_i``.

    Args:
        fx (Mapping): A TaskWeave model fixture.
        official_state_dict (Mapping, optional): Pre-rebuilt official
            weights.
        check_sha (bool): Verify the rebuilt weights' hash. Defaults to True.

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
                f'sha256 {sha}, expected {fx["meta"]["state_dict_sha256"]} '
                '(see mmmrhd.testing.portable_init.mismatching_keys)')
    converter = import_taskweave_converter()
    cfg = taskweave_config_from_fixture(fx)
    state_dict = converter.convert_taskweave_official(
        official_state_dict,
        video_streams=cfg['video_proj']['streams'],
        text_streams=cfg['text_proj']['streams'])
    model = MODELS.build(cfg)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    model.feedback_active = taskweave_feedback_active(fx['meta']['epoch_i'])
    return model
