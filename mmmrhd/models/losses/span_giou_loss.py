# Copyright (c) mmmrhd contributors. All rights reserved.
"""Generalised temporal IoU loss on matched spans."""
import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from mmmrhd.structures.spans import generalized_temporal_iou, span_cxw_to_xx
from .utils import check_matched_spans


@MODELS.register_module()
class SpanGIoULoss(nn.Module):
    """``mean_k (1 - GIoU(b_k, g_k))`` over the ``N`` matched span pairs.

    The spans are converted from ``(center, width)`` to ``(start, end)``
    first. As in the official ``SetCriterion.loss_spans`` the pairwise
    ``(N, N)`` GIoU matrix is formed and its diagonal taken, which keeps the
    element-wise arithmetic identical; ``N`` is small (the number of ground
    truth moments in the batch).

    With no matched pair in the batch the official value is NaN; here it is
    an exact 0 that keeps the graph connected.
    """

    def forward(self, pred_spans: Tensor, target_spans: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            pred_spans (Tensor): Matched predictions ``(N, 2)`` (cx, w).
            target_spans (Tensor): Matched targets ``(N, 2)`` (cx, w).

        Returns:
            Tensor: Scalar loss.
        """
        check_matched_spans(pred_spans, target_spans, 'SpanGIoULoss')
        if pred_spans.shape[0] == 0:
            return pred_spans.sum() * 0.
        giou = generalized_temporal_iou(
            span_cxw_to_xx(pred_spans), span_cxw_to_xx(target_spans))
        return (1 - torch.diag(giou)).mean()
