# Copyright (c) mmmrhd contributors. All rights reserved.
"""Conversions and overlaps of 1-D spans (temporal windows).

Two layouts are used throughout the package:

* ``xx``: ``(start, end)``.
* ``cxw``: ``(center, width)``; the DETR-style models predict spans in this
  layout, normalised to ``[0, 1]`` by the feature length ``L * clip_len``.

The arithmetic follows the official Moment-DETR family
(``moment_detr/span_utils.py``) operation by operation, so that values are
bitwise equal to the official ones.
"""
from typing import Tuple

import torch
from torch import Tensor


def span_xx_to_cxw(xx_spans: Tensor) -> Tensor:
    """Convert ``(start, end)`` spans to ``(center, width)``.

    Args:
        xx_spans (Tensor): Spans of shape ``(..., 2)``.

    Returns:
        Tensor: ``(center, width)`` spans of shape ``(..., 2)``.
    """
    center = xx_spans.sum(-1) * 0.5
    width = xx_spans[..., 1] - xx_spans[..., 0]
    return torch.stack([center, width], dim=-1)


def span_cxw_to_xx(cxw_spans: Tensor) -> Tensor:
    """Convert ``(center, width)`` spans to ``(start, end)``.

    Args:
        cxw_spans (Tensor): Spans of shape ``(..., 2)``.

    Returns:
        Tensor: ``(start, end)`` spans of shape ``(..., 2)``.
    """
    x1 = cxw_spans[..., 0] - 0.5 * cxw_spans[..., 1]
    x2 = cxw_spans[..., 0] + 0.5 * cxw_spans[..., 1]
    return torch.stack([x1, x2], dim=-1)


def _inter_union(spans1: Tensor, spans2: Tensor) -> Tuple[Tensor, Tensor]:
    """Pairwise intersection and union of two sets of ``xx`` spans."""
    areas1 = spans1[:, 1] - spans1[:, 0]  # (N,)
    areas2 = spans2[:, 1] - spans2[:, 0]  # (M,)
    left = torch.max(spans1[:, None, 0], spans2[:, 0])  # (N, M)
    right = torch.min(spans1[:, None, 1], spans2[:, 1])  # (N, M)
    inter = (right - left).clamp(min=0)  # (N, M)
    union = areas1[:, None] + areas2 - inter  # (N, M)
    return inter, union


def temporal_iou(spans1: Tensor, spans2: Tensor) -> Tuple[Tensor, Tensor]:
    """Pairwise IoU of two sets of ``(start, end)`` spans.

    Args:
        spans1 (Tensor): Spans of shape ``(N, 2)``.
        spans2 (Tensor): Spans of shape ``(M, 2)``.

    Returns:
        tuple[Tensor, Tensor]: ``iou`` and ``union``, each ``(N, M)``.
    """
    inter, union = _inter_union(spans1, spans2)
    return inter / union, union


def generalized_temporal_iou(spans1: Tensor, spans2: Tensor) -> Tensor:
    """Pairwise generalised IoU (Rezatofighi et al., 2019) of 1-D spans.

    Args:
        spans1 (Tensor): ``(start, end)`` spans of shape ``(N, 2)``; every
            span must have ``end >= start``.
        spans2 (Tensor): ``(start, end)`` spans of shape ``(M, 2)``.

    Returns:
        Tensor: GIoU of shape ``(N, M)``, in ``[-1, 1]``.
    """
    spans1 = spans1.float()
    spans2 = spans2.float()
    iou, union = temporal_iou(spans1, spans2)
    left = torch.min(spans1[:, None, 0], spans2[:, 0])  # (N, M)
    right = torch.max(spans1[:, None, 1], spans2[:, 1])  # (N, M)
    enclosing = (right - left).clamp(min=0)  # (N, M)
    return iou - (enclosing - union) / enclosing
