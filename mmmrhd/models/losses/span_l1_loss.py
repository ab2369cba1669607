# Copyright (c) mmmrhd contributors. All rights reserved.
"""L1 regression loss on matched ``(center, width)`` spans."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_matched_spans


@MODELS.register_module()
class SpanL1Loss(nn.Module):
    """Mean absolute error between matched predicted and target spans.

    ``loss = mean_{k, c} |b_k[c] - g_k[c]|`` over the ``N`` matched pairs and
    both coordinates ``c`` of the normalised ``(center, width)`` spans
    (official ``SetCriterion.loss_spans``: ``F.l1_loss(..., reduction='none')
    .mean()``).

    With no matched pair in the batch the official value is NaN (mean of an
    empty tensor); here it is an exact 0 that keeps the graph connected.
    """

    def forward(self, pred_spans: Tensor, target_spans: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            pred_spans (Tensor): Matched predictions ``(N, 2)`` (cx, w).
            target_spans (Tensor): Matched targets ``(N, 2)`` (cx, w).

        Returns:
            Tensor: Scalar loss.
        """
        check_matched_spans(pred_spans, target_spans, 'SpanL1Loss')
        if pred_spans.shape[0] == 0:
            return pred_spans.sum() * 0.
        return F.l1_loss(pred_spans, target_spans, reduction='none').mean()
