# Copyright (c) mmmrhd contributors. All rights reserved.
"""Moment retrieval training targets."""
from typing import Dict, Optional

import torch
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS
from mmmrhd.structures.spans import span_xx_to_cxw
from .worker_rng import WorkerRNG

__all__ = ['GenerateSpanTargets']


@TRANSFORMS.register_module()
class GenerateSpanTargets(BaseTransform):
    """Normalised ``(center, width)`` span targets from ``gt_windows``.

    As the official ``get_span_labels`` (``span_loss_type='l1'``, TaskWeave
    ``start_end_dataset.py`` L250-268): when there are more than
    ``max_windows`` windows, a random subset of ``max_windows`` (in random
    order) is kept; windows in seconds are divided by ``L * clip_len`` (the
    feature length, NOT the duration) and converted to ``(center, width)``.
    A no-op for samples without ``gt_windows`` (e.g. a test split).

    Required keys: ``gt_windows`` (float32 ``(n, 2)`` s), ``num_clips``,
    ``clip_len``.
    Added keys: ``gt_spans`` (float32 ``(min(n, max_windows), 2)``).

    Args:
        max_windows (int, optional): Official ``max_windows`` = 5. None
            keeps all windows.
        seed (int, optional): Extra seed of the subset draw (see
            :class:`WorkerRNG`).
    """

    def __init__(self,
                 max_windows: Optional[int] = 5,
                 seed: Optional[int] = None) -> None:
        if max_windows is not None and max_windows < 1:
            raise ValueError('max_windows must be >= 1 or None, got '
                             f'{max_windows}')
        self.max_windows = max_windows
        self.rng = WorkerRNG(seed)

    def transform(self, results: Dict) -> Dict:
        """Add ``gt_spans`` to ``results``."""
        windows = results.get('gt_windows')
        if windows is None:
            return results
        if self.max_windows is not None and len(windows) > self.max_windows:
            keep = self.rng().permutation(len(windows))[:self.max_windows]
            windows = windows[keep]
        norm = results['num_clips'] * results['clip_len']
        spans = torch.as_tensor(windows, dtype=torch.float32) / norm
        results['gt_spans'] = span_xx_to_cxw(spans).numpy()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_windows={self.max_windows}, '
                f'rng={self.rng})')
