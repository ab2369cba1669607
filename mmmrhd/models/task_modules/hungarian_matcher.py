# Copyright (c) mmmrhd contributors. All rights reserved.
"""One-to-one matching of predicted moments to ground-truth moments."""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from mmmrhd.registry import TASK_UTILS
from mmmrhd.structures.spans import generalized_temporal_iou, span_cxw_to_xx

#: Index 0 of the 2-way classifier is the foreground (moment) class in every
#: model of the Moment-DETR family (official ``matcher.py``,
#: ``self.foreground_label = 0``).
FOREGROUND_LABEL = 0


@TASK_UTILS.register_module()
class HungarianMatcher:
    """Hungarian matching between moment queries and ground-truth spans.

    The cost of assigning query ``q`` to target ``t`` is

    .. math::

        C_{qt} = w_{span} \\lVert b_q - b_t \\rVert_1
                 - w_{giou} \\mathrm{GIoU}(b_q, b_t)
                 - w_{class} \\, p_q(\\mathrm{fg})

    with spans ``b`` in normalised ``(center, width)`` for the L1 term and
    ``(start, end)`` for the GIoU term, and ``p(fg) = softmax(logits)[..., 0]``
    (a probability, not a log-probability). As in the official matcher
    (Moment-DETR ``matcher.py``, copied unchanged by QD-DETR, TaskWeave,
    TR-DETR and VideoLights) the cost is computed once for the flattened
    batch against all targets of the batch, moved to the CPU in float32, and
    split into one ``(Q, n_i)`` block per sample, which
    :func:`scipy.optimize.linear_sum_assignment` solves.

    Args:
        cost_class (float): Weight of the foreground-probability term.
            Defaults to 4 (official ``set_cost_class``).
        cost_span (float): Weight of the L1 term. Defaults to 10 (official
            ``set_cost_span``).
        cost_giou (float): Weight of the GIoU term. Defaults to 1 (official
            ``set_cost_giou``).
        span_loss_type (str): Span parameterisation. Only ``'l1'``
            (continuous ``(center, width)``) is implemented; the official
            ``'ce'`` option (per-clip classification) is not.
    """

    def __init__(self,
                 cost_class: float = 4.0,
                 cost_span: float = 10.0,
                 cost_giou: float = 1.0,
                 span_loss_type: str = 'l1') -> None:
        if span_loss_type != 'l1':
            raise ValueError(
                f"HungarianMatcher: span_loss_type='{span_loss_type}' is not "
                "implemented; only 'l1' is supported")
        if cost_class == 0 and cost_span == 0 and cost_giou == 0:
            raise ValueError('HungarianMatcher: all cost weights are 0')
        self.cost_class = cost_class
        self.cost_span = cost_span
        self.cost_giou = cost_giou
        self.span_loss_type = span_loss_type

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cost_class={self.cost_class}, '
                f'cost_span={self.cost_span}, cost_giou={self.cost_giou})')

    @torch.no_grad()
    def cost_matrix(self, pred_logits: Tensor, pred_spans: Tensor,
                    gt_spans: Sequence[Tensor]) -> Tensor:
        """Batched matching cost, before the split per sample.

        Args:
            pred_logits (Tensor): Class logits ``(B, Q, 2)``.
            pred_spans (Tensor): Normalised ``(center, width)`` spans
                ``(B, Q, 2)``.
            gt_spans (Sequence[Tensor]): ``B`` tensors ``(n_i, 2)`` of
                normalised ``(center, width)`` target spans.

        Returns:
            Tensor: CPU cost ``(B, Q, sum_i n_i)``; sample ``i`` owns the
            columns of its own targets.
        """
        self._check_inputs(pred_logits, pred_spans, gt_spans)
        bs, num_queries = pred_spans.shape[:2]
        # Same op order as the official matcher.py forward().
        out_prob = pred_logits.flatten(0, 1).softmax(-1)  # (B*Q, 2)
        tgt_spans = torch.cat([s.to(pred_spans) for s in gt_spans])  # (N, 2)
        num_targets = tgt_spans.shape[0]
        tgt_ids = torch.full([num_targets],
                             FOREGROUND_LABEL,
                             dtype=torch.long,
                             device=out_prob.device)
        cost_class = -out_prob[:, tgt_ids]  # (B*Q, N)
        out_spans = pred_spans.flatten(0, 1)  # (B*Q, 2)
        cost_span = torch.cdist(out_spans, tgt_spans, p=1)  # (B*Q, N)
        cost_giou = -generalized_temporal_iou(
            span_cxw_to_xx(out_spans), span_cxw_to_xx(tgt_spans))
        cost = (self.cost_span * cost_span + self.cost_giou * cost_giou +
                self.cost_class * cost_class)
        return cost.view(bs, num_queries, num_targets).cpu()

    @torch.no_grad()
    def __call__(self, pred_logits: Tensor, pred_spans: Tensor,
                 gt_spans: Sequence[Tensor]) -> List[Tuple[Tensor, Tensor]]:
        """Match the queries of every sample to its targets.

        Args:
            pred_logits (Tensor): Class logits ``(B, Q, 2)``.
            pred_spans (Tensor): Normalised ``(center, width)`` spans
                ``(B, Q, 2)``.
            gt_spans (Sequence[Tensor]): ``B`` tensors ``(n_i, 2)`` of
                normalised ``(center, width)`` target spans; ``n_i`` may be 0.

        Returns:
            list[tuple[Tensor, Tensor]]: Per sample, CPU int64 ``(pred_idx,
            tgt_idx)`` of length ``min(Q, n_i)`` as returned by scipy (query
            indices ascending); empty for a sample without targets.
        """
        # Imported on first use: scipy.optimize is slow to import (1.5 s
        # measured on a loaded 2-core machine); `import mmmrhd` skips it.
        from scipy.optimize import linear_sum_assignment
        cost = self.cost_matrix(pred_logits, pred_spans, gt_spans)
        sizes = [int(s.shape[0]) for s in gt_spans]
        indices = []
        for i, c in enumerate(cost.split(sizes, -1)):
            block = c[i]
            if not torch.isfinite(block).all():
                raise ValueError(
                    f'HungarianMatcher: the cost of sample {i} contains '
                    'NaN/inf (check pred_spans/pred_logits and the target '
                    'spans for NaN or zero-width spans)')
            row, col = linear_sum_assignment(block.numpy())
            indices.append((torch.as_tensor(row, dtype=torch.int64),
                            torch.as_tensor(col, dtype=torch.int64)))
        return indices

    @staticmethod
    def _check_inputs(pred_logits: Tensor, pred_spans: Tensor,
                      gt_spans: Sequence[Tensor]) -> None:
        """Raise a ValueError on inconsistent shapes."""
        if pred_spans.dim() != 3 or pred_spans.shape[-1] != 2:
            raise ValueError('HungarianMatcher: pred_spans must be (B, Q, 2), '
                             f'got {tuple(pred_spans.shape)}')
        if pred_logits.dim() != 3 or \
                pred_logits.shape[:2] != pred_spans.shape[:2]:
            raise ValueError(
                'HungarianMatcher: pred_logits must be (B, Q, C) with the '
                f'(B, Q) of pred_spans {tuple(pred_spans.shape[:2])}, got '
                f'{tuple(pred_logits.shape)}')
        if len(gt_spans) != pred_spans.shape[0]:
            raise ValueError(
                f'HungarianMatcher: got {len(gt_spans)} target span sets for '
                f'a batch of {pred_spans.shape[0]}')
        for i, s in enumerate(gt_spans):
            if s.dim() != 2 or s.shape[-1] != 2:
                raise ValueError(
                    f'HungarianMatcher: target spans of sample {i} must be '
                    f'(n, 2), got {tuple(s.shape)}')
