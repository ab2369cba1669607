# Copyright (c) mmmrhd contributors. All rights reserved.
"""Greedy temporal non-maximum suppression, batched over samples.

Semantics of the official ``utils/temporal_nms.py::temporal_nms`` (moment_detr
family, also TaskWeave/QD-DETR/TR-DETR) as called by
``inference.py::post_processing_mr_nms``: only the first ``max_before_nms``
windows (already sorted by score) take part; a window is dropped when its IoU
with an already kept, higher-ranked window is strictly greater than the
threshold; at most ``max_after_nms`` windows are kept, in score order.
"""
from typing import Optional

import torch
from torch import Tensor


def pairwise_window_iou(windows: Tensor) -> Tensor:
    """IoU between all pairs of windows of each sample.

    Follows the official ``compute_temporal_iou``: intersection over the
    enclosing hull ``max(ends) - min(starts)`` (equal to the union whenever
    the windows overlap) and 0 when the windows do not overlap.

    Args:
        windows (Tensor): ``(start, end)`` windows of shape ``(B, N, 2)``.

    Returns:
        Tensor: IoU of shape ``(B, N, N)``, float64.
    """
    w = windows.double()
    start, end = w[..., 0], w[..., 1]  # (B, N)
    inter = (torch.minimum(end[:, :, None], end[:, None, :]) -
             torch.maximum(start[:, :, None], start[:, None, :])).clamp(min=0)
    hull = (torch.maximum(end[:, :, None], end[:, None, :]) -
            torch.minimum(start[:, :, None], start[:, None, :]))
    # inter > 0 implies hull > 0, so the division is safe where it is used.
    return torch.where(inter > 0, inter / torch.where(inter > 0, hull, 1.0),
                       torch.zeros_like(inter))


def batched_temporal_nms(windows: Tensor,
                         iou_thr: float,
                         max_before_nms: Optional[int] = 10,
                         max_after_nms: Optional[int] = 10,
                         valid: Optional[Tensor] = None) -> Tensor:
    """Greedy temporal NMS over windows sorted by descending score.

    The loop runs over the (few) window ranks; every step is vectorised over
    the batch.

    Args:
        windows (Tensor): ``(start, end)`` windows of shape ``(B, N, 2)``,
            each sample's rows sorted by descending score.
        iou_thr (float): A window whose IoU with a kept, higher-ranked window
            is ``> iou_thr`` is suppressed (official ``nms_thd``).
        max_before_nms (int, optional): Only the first ``max_before_nms``
            windows take part; the rest are dropped (official default 10).
            None = all.
        max_after_nms (int, optional): Keep at most this many windows
            (official default 10). None = no limit.
        valid (Tensor, optional): Bool ``(B, N)``; False rows are ignored
            (neither kept nor suppressing). Defaults to all True.

    Returns:
        Tensor: Bool keep mask of shape ``(B, N)``.
    """
    if windows.dim() != 3 or windows.shape[-1] != 2:
        raise ValueError('batched_temporal_nms expects windows of shape '
                         f'(B, N, 2), got {tuple(windows.shape)}')
    num_samples, num_windows = windows.shape[:2]
    if valid is None:
        valid = torch.ones(
            num_samples, num_windows, dtype=torch.bool, device=windows.device)
    valid = valid.clone()
    if max_before_nms is not None:
        valid[:, max_before_nms:] = False
    limit = num_windows if max_after_nms is None else max_after_nms
    iou = pairwise_window_iou(windows)  # (B, N, N)
    keep = torch.zeros_like(valid)
    for i in range(num_windows):
        suppressed = (keep[:, :i] & (iou[:, :i, i] > iou_thr)).any(dim=1)
        room = keep.sum(dim=1) < limit
        keep[:, i] = valid[:, i] & ~suppressed & room
    return keep
