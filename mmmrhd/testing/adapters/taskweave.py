# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity adapter of TaskWeave (EdenGabriel/TaskWeave fixtures)."""
from typing import Any, Dict, List, Mapping, Optional

import torch
from torch import Tensor, nn

from ..compare import OUT_TOL, ParityRow, compare, exact
from ..fixtures import (import_converter, official_detector_base,
                        official_layer, official_moment_loss)
from .base import PARITY_ADAPTERS, ParityAdapter, register_parity_adapter

#: Official TaskWeave feedback onset: ``epoch_i + 1 > 100``
#: (``taskweave/model.py`` L131, L165).
TASKWEAVE_FEEDBACK_EPOCH_THRES = 100
TASKWEAVE_CONVERTER = 'taskweave_official_to_mmmrhd.py'


def import_taskweave_converter():
    """Import ``tools/model_converters/taskweave_official_to_mmmrhd.py``."""
    return import_converter(TASKWEAVE_CONVERTER)


def taskweave_feedback_active(epoch_i: Optional[int]) -> bool:
    """Official feedback switch: on iff ``epoch_i is None or epoch_i + 1 >
    100``."""
    return epoch_i is None or epoch_i + 1 > TASKWEAVE_FEEDBACK_EPOCH_THRES


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
    layer = official_layer(opt)
    return dict(
        official_detector_base('TaskWeave', opt),
        fusion=dict(type='T2VEncoder', num_layers=opt['enc_layers'], **layer),
        neck=dict(
            type='TaskDecoupledUnit',
            shared_expert=dict(
                type='TransformerExpert',
                num_layers=2,  # hard-coded in the release (L81)
                **layer)),
        decoder=dict(
            type='DABMomentDecoder',
            num_layers=opt['dec_layers'],
            num_queries=opt['num_queries'],
            **layer),
        feedback=dict(type='FeedbackHead', manner=taskweave_variant(fx)),
        moment_loss=official_moment_loss(opt),
        saliency_loss=dict(type='SaliencyCriterion'),
        joint_loss=dict(type='UncertaintyJointLoss'),
        post_processor=dict(type='MomentPostProcessor'))


@register_parity_adapter
class TaskWeaveAdapter(ParityAdapter):
    """TaskWeave: feedback state from ``epoch_i``, uncertainty joint loss
    (total of shape (1,), ``loss_extra.loss_mr`` / ``loss_hd``)."""
    name = 'taskweave'
    repos = ('EdenGabriel/TaskWeave', )
    converter_file = TASKWEAVE_CONVERTER
    convert_fn = 'convert_taskweave_official'

    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        return taskweave_config_from_fixture(fx)

    def prepare(self, model: nn.Module, fx: Mapping[str, Any]) -> None:
        model.eval()
        model.feedback_active = taskweave_feedback_active(
            fx['meta']['epoch_i'])

    def extra_rows(self, model: nn.Module, fx: Mapping[str, Any],
                   outputs: Mapping[str, Any],
                   log_vars: Mapping[str, Tensor]) -> List[ParityRow]:
        atol, rtol = OUT_TOL
        rows = []
        for key in ('loss_mr', 'loss_hd'):
            if key in fx.get('loss_extra', {}):
                rows.append(
                    compare('total', f'loss_extra.{key}', log_vars[key],
                            fx['loss_extra'][key], atol, rtol))
        derived = fx.get('derived', {})
        inputs = self.inputs(fx)
        if 'hd2mr_mask' in derived:
            mask = model.feedback.h2m(outputs['saliency_scores'],
                                      inputs['video_mask'])
            rows.append(
                exact('outputs', 'derived.hd2mr_mask',
                      mask.tolist(), derived['hd2mr_mask'].tolist()))
        if 'mr2hd_mask_norm_recomputed' in derived:
            mask = model.feedback.m2m(outputs['pred_spans'],
                                      inputs['video_mask'])
            rows.append(
                compare('outputs', 'derived.mr2hd_mask_norm_recomputed', mask,
                        derived['mr2hd_mask_norm_recomputed'], atol, rtol))
        # Inverted MaskedConv1D mask: exactly-zero gradients (quirk 12).
        params = dict(model.named_parameters())
        for name in ('neck.mr_expert.conv.weight', 'neck.mr_expert.norm.weight'):
            grad = params[name].grad
            zero = grad is not None and not bool(grad.any())
            rows.append(
                ParityRow('grads', f'exactly zero: {name}', 0.0, 0.0, 0.0,
                          zero, '' if zero else 'expected an all-zero grad'))
        return rows


def build_taskweave_from_fixture(fx: Mapping[str, Any],
                                 official_state_dict: Optional[Mapping[
                                     str, Tensor]] = None,
                                 check_sha: bool = True) -> torch.nn.Module:
    """Build, convert-load and set up the mmmrhd TaskWeave of a fixture
    (:meth:`ParityAdapter.build_model` of :class:`TaskWeaveAdapter`)."""
    return PARITY_ADAPTERS['taskweave'].build_model(fx, official_state_dict,
                                                   check_sha)
