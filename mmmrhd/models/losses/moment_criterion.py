# Copyright (c) mmmrhd contributors. All rights reserved.
"""Moment-retrieval criterion of the DETR-style models (set prediction)."""
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS, TASK_UTILS, build_part
from ..task_modules.hungarian_matcher import FOREGROUND_LABEL
from .class_error import class_error
from .utils import check_shape, get_key

ConfigOrModule = Union[dict, nn.Module]
MatchIndices = List[Tuple[Tensor, Tensor]]

#: Target class of unmatched queries (official ``background_label = 1``).
BACKGROUND_LABEL = 1


@MODELS.register_module()
class MomentCriterion(nn.Module):
    """Hungarian matching + span, GIoU and label losses, per decoder layer.

    For the final layer and (with ``aux_loss``) every entry of
    ``outputs['aux_outputs']``, the queries are matched to the ground-truth
    spans anew, then

    * ``loss_span`` = ``loss_span(pred[matched], gt[matched])``,
    * ``loss_giou`` = ``loss_giou(pred[matched], gt[matched])``,
    * ``loss_label`` = ``loss_label(logits, classes)`` where matched queries
      have class 0 (foreground) and all others class 1 (background),
    * ``class_error`` = 100 - accuracy of the matched queries (logged only,
      no gradient).

    Auxiliary layer ``i`` gets the same keys with the suffix ``_<i>`` (the
    official key names, e.g. ``loss_span_0``). The losses are unweighted;
    the joint losses (:class:`WeightedSumLoss`, :class:`UncertaintyJointLoss`)
    combine them. The matching of the last call is kept in
    :attr:`last_indices`.

    Args:
        matcher (dict | object): Matcher config (built from ``TASK_UTILS``)
            or instance. Defaults to :class:`HungarianMatcher` with the
            official costs 4/10/1.
        loss_span (dict | nn.Module): Span regression loss. Defaults to
            :class:`SpanL1Loss`.
        loss_giou (dict | nn.Module): Span overlap loss. Defaults to
            :class:`SpanGIoULoss`.
        loss_label (dict | nn.Module): Label loss taking ``(logits (B, Q, 2),
            classes (B, Q))``. Defaults to :class:`CrossEntropyLabelLoss`
            with ``eos_coef=0.1``; TR-DETR uses :class:`SigmoidFocalLabelLoss`.
        aux_loss (bool): Whether to compute the losses of
            ``outputs['aux_outputs']`` (when present). Defaults to True.
    """

    def __init__(
        self,
        matcher: Union[dict, Any] = dict(type='HungarianMatcher'),
        loss_span: ConfigOrModule = dict(type='SpanL1Loss'),
        loss_giou: ConfigOrModule = dict(type='SpanGIoULoss'),
        loss_label: ConfigOrModule = dict(
            type='CrossEntropyLabelLoss', eos_coef=0.1),
        aux_loss: bool = True,
    ) -> None:
        super().__init__()
        self.matcher = build_part(TASK_UTILS, matcher)
        self.loss_span = self._build(loss_span)
        self.loss_giou = self._build(loss_giou)
        self.loss_label = self._build(loss_label)
        self.aux_loss = aux_loss
        #: Matching of the last forward: one list per layer (final first,
        #: then ``aux_outputs`` in order) of per-sample CPU int64
        #: ``(pred_idx, tgt_idx)``.
        self.last_indices: List[MatchIndices] = []

    @staticmethod
    def _build(cfg: ConfigOrModule) -> nn.Module:
        return build_part(MODELS, cfg)

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Dict[str, Tensor]:
        """Compute the moment-retrieval losses.

        Args:
            outputs (Mapping): ``pred_logits`` ``(B, Q, 2)``, ``pred_spans``
                ``(B, Q, 2)`` normalised ``(center, width)``, optionally
                ``aux_outputs``: a list of dicts with the same two keys.
            targets (Mapping): ``span_labels``: a list of ``B`` dicts with
                ``spans`` ``(n_i, 2)`` normalised ``(center, width)``.

        Returns:
            dict[str, Tensor]: ``loss_span``, ``loss_giou``, ``loss_label``,
            ``class_error`` and their ``_<i>`` copies per auxiliary layer.
        """
        owner = self.__class__.__name__
        span_labels = get_key(targets, 'span_labels', owner, 'targets')
        gt_spans = []
        for i, lab in enumerate(span_labels):
            if not isinstance(lab, Mapping) or 'spans' not in lab:
                raise KeyError(f"{owner}: targets['span_labels'][{i}] must "
                               "be a dict with key 'spans'")
            gt_spans.append(lab['spans'])
        layers = [('', outputs)]
        if self.aux_loss:
            aux_outputs = outputs.get('aux_outputs') or []
            layers += [(f'_{i}', aux) for i, aux in enumerate(aux_outputs)]
        losses: Dict[str, Tensor] = {}
        all_indices = []
        for suffix, layer_outputs in layers:
            layer_losses, indices = self.layer_losses(layer_outputs,
                                                      gt_spans, suffix)
            losses.update(
                {k + suffix: v
                 for k, v in layer_losses.items()})
            all_indices.append(indices)
        self.last_indices = all_indices
        return losses

    def layer_losses(self, layer_outputs: Mapping[str, Any],
                     gt_spans: Sequence[Tensor],
                     suffix: str = '') -> Tuple[Dict[str, Tensor],
                                                MatchIndices]:
        """Match one decoder layer and compute its losses.

        Args:
            layer_outputs (Mapping): ``pred_logits`` and ``pred_spans``,
                both ``(B, Q, 2)``.
            gt_spans (Sequence[Tensor]): ``B`` target tensors ``(n_i, 2)``.
            suffix (str): Key suffix of the layer (for error messages).

        Returns:
            tuple[dict, list]: The unsuffixed losses and the matching.
        """
        owner = self.__class__.__name__
        where = f"outputs (layer '{suffix or 'final'}')"
        pred_logits = get_key(layer_outputs, 'pred_logits', owner, where)
        pred_spans = get_key(layer_outputs, 'pred_spans', owner, where)
        check_shape(pred_spans, (None, None, 2), owner, 'pred_spans')
        check_shape(pred_logits, tuple(pred_spans.shape[:2]) + (None, ),
                    owner, 'pred_logits')
        indices = self.matcher(pred_logits, pred_spans, gt_spans)

        device = pred_spans.device
        batch_idx = torch.cat([
            torch.full_like(src, i) for i, (src, _) in enumerate(indices)
        ]).to(device)
        src_idx = torch.cat([src for src, _ in indices]).to(device)
        matched_spans = pred_spans[batch_idx, src_idx]  # (N, 2)
        target_spans = torch.cat([
            gt[tgt.to(gt.device)] for gt, (_, tgt) in zip(gt_spans, indices)
        ]).to(pred_spans)  # (N, 2)

        target_classes = torch.full(
            pred_logits.shape[:2],
            BACKGROUND_LABEL,
            dtype=torch.int64,
            device=pred_logits.device)  # (B, Q)
        target_classes[batch_idx, src_idx] = FOREGROUND_LABEL

        losses = {
            'loss_span': self.loss_span(matched_spans, target_spans),
            'loss_giou': self.loss_giou(matched_spans, target_spans),
            'loss_label': self.loss_label(pred_logits, target_classes),
            'class_error': class_error(pred_logits[batch_idx, src_idx],
                                       FOREGROUND_LABEL),
        }
        return losses, indices
