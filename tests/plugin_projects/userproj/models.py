# Copyright (c) mmmrhd contributors. All rights reserved.
"""A user model assembled from mmmrhd parts (built with the prefix)."""
from typing import Any, Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmmrhd.datasets.collate import collate_targets
from .registry import MODELS, TASK_UTILS


@MODELS.register_module()
class TransformerExpert(nn.Module):
    """A decoy with the name of an mmmrhd expert: mmmrhd's
    TaskDecoupledUnit must never build this one, whatever the scope."""

    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError('userproj.TransformerExpert built by mistake')


@TASK_UTILS.register_module()
class HighlightToMask:
    """A decoy with the name of an mmmrhd task util (see above)."""

    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError('userproj.HighlightToMask built by mistake')


@MODELS.register_module()
class TinyMRHDNet(BaseModel):
    """Mean-pooled text + projected clips -> mmmrhd's task-decoupled unit
    -> one moment query (MR) and a per-clip score (HD), joined by mmmrhd's
    FeedbackHead; mmmrhd's criteria, joint loss and post-processor.

    Args:
        video_dim (int): Video feature width.
        text_dim (int): Text feature width.
        embed_dim (int): Hidden width.
        data_preprocessor (dict): Built by MMEngine's BaseModel from the
            caller's scope (so it needs the ``mmmrhd.`` prefix there).
    """

    def __init__(self,
                 video_dim: int,
                 text_dim: int,
                 embed_dim: int = 16,
                 data_preprocessor: dict = dict(
                     type='mmmrhd.MRHDDataPreprocessor')) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        d = embed_dim
        self.video_proj = nn.Linear(video_dim, d)
        self.text_proj = nn.Linear(text_dim, d)
        # Our registries: the prefix reaches mmmrhd's; their nested parts
        # (experts, masks converters, matcher, loss terms) resolve in mmmrhd.
        self.neck = MODELS.build(
            dict(type='mmmrhd.TaskDecoupledUnit', embed_dim=d,
                 shared_expert=dict(type='TransformerExpert', num_layers=1,
                                    num_heads=2, ffn_dim=2 * d,
                                    dropout=0.0)))
        self.feedback = MODELS.build(
            dict(type='mmmrhd.FeedbackHead', manner='bi'))
        self.moment_loss = MODELS.build(
            dict(type='mmmrhd.MomentCriterion', aux_loss=False))
        self.saliency_loss = MODELS.build(
            dict(type='mmmrhd.SaliencyCriterion',
                 terms=[dict(type='SaliencyHingeLoss', margin=0.2)]))
        self.joint_loss = MODELS.build(
            dict(type='mmmrhd.UncertaintyJointLoss', aux=False))
        self.post_processor = TASK_UTILS.build(
            dict(type='mmmrhd.MomentPostProcessor', max_ts=None))
        self.span_head = nn.Linear(d, 4)  # 2 logits + (center, width)
        self.score_head = nn.Linear(d, 1)

    def _decode_mr(self, x_mr: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
        pooled = (x_mr * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        out = self.span_head(pooled)[:, None]  # (B, Q=1, 4)
        # (n_layers=1, B, Q, 2) each, as FeedbackHead expects
        return out[None, ..., :2], out[None, ..., 2:].sigmoid()

    def _decode_hd(self, j: Tensor, sum_input: Any = None) -> Tensor:
        return self.score_head(j)[..., 0]

    def _forward(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        vmask, tmask = inputs['video_mask'], inputs['text_mask']
        text = self.text_proj(inputs['text_feat'])
        text = (text * tmask[..., None]).sum(1) / tmask.sum(1, keepdim=True)
        z = self.video_proj(inputs['video_feat']) + text[:, None]
        feats = self.neck(z, vmask, torch.zeros_like(z),
                          tasks=self.feedback.required_tasks)
        (logits, spans), saliency = self.feedback(
            feats.get('mr'), feats['hd'], vmask,
            lambda x: self._decode_mr(x, vmask), self._decode_hd)
        return dict(pred_logits=logits[-1], pred_spans=spans[-1],
                    saliency_scores=saliency, video_mask=vmask)

    def forward(self, inputs: Dict[str, Tensor], data_samples: List[dict] = None,
                mode: str = 'tensor'):
        out = self._forward(inputs)
        if mode == 'tensor':
            return out
        if mode == 'loss':
            targets = collate_targets(data_samples, out['pred_logits'].device)
            losses = dict(self.moment_loss(out, targets))
            losses.update(self.saliency_loss(out, targets))
            total, log_vars = self.joint_loss(losses)
            log_vars['loss'] = total
            return log_vars
        scores = F.softmax(out['pred_logits'], -1)[..., 0]
        return self.post_processor(out['pred_spans'], scores,
                                   out['saliency_scores'], out['video_mask'],
                                   data_samples)

    def parse_losses(self, losses):
        log_vars = {k: v.detach() for k, v in losses.items()}
        return losses['loss'], log_vars
