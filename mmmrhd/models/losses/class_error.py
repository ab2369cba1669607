# Copyright (c) mmmrhd contributors. All rights reserved.
"""Classification error of the matched queries (a logged metric)."""
import torch
from torch import Tensor


@torch.no_grad()
def class_error(matched_logits: Tensor, target_label: int = 0) -> Tensor:
    """``100 - top-1 accuracy`` (in percent) of the matched queries.

    Same arithmetic as the official ``misc.accuracy`` (``topk`` then
    ``sum * (100 / n)``) so that the logged value is bitwise equal. It is not
    a loss: it carries no gradient.

    Args:
        matched_logits (Tensor): Logits ``(N, C)`` of the matched queries.
        target_label (int): Their class. Defaults to 0 (foreground).

    Returns:
        Tensor: Scalar float32 percentage. With ``N = 0`` (no ground truth in
        the batch) it is 0, where the official code gives NaN.
    """
    num_items = matched_logits.shape[0]
    if num_items == 0:
        return matched_logits.new_zeros(())
    _, pred = matched_logits.topk(1, 1, True, True)  # (N, 1)
    correct = pred.t().eq(target_label)  # (1, N)
    accuracy = correct[:1].reshape(-1).float().sum(0).mul_(100.0 / num_items)
    return 100 - accuracy
