# Copyright (c) mmmrhd contributors. All rights reserved.
"""Pseudo highlight targets from a moment window (MR-only datasets)."""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS
from .worker_rng import WorkerRNG

__all__ = ['GenerateWindowSaliencyLabels']


@TRANSFORMS.register_module()
class GenerateWindowSaliencyLabels(BaseTransform):
    """Binary saliency labels from the first ground-truth window.

    For datasets without highlight annotation (Charades-STA, TACoS, ...),
    joint MR/HD models get their saliency targets from the moment window, as
    the official VideoLights / CG-DETR ``get_saliency_labels_sub_as_query``
    (VideoLights ``start_end_dataset.py`` L179-204):

    * clip length ``c = duration / L`` (NOT ``clip_len``: the L feature
      clips are taken to span the whole video), window clips
      ``st = int(start / c)``, ``ed = max(0, min(int(end / c), L) - 1)``,
      and ``st = ed`` if ``st > ed``;
    * positives: ``num_pairs`` distinct random clips in ``[st, ed]``, or
      ``st`` repeated if the window has one clip;
    * negatives: ``num_pairs`` distinct random clips outside ``[st, ed]``;
      the positives are reused if there are too few;
    * ``saliency_all_labels`` = 1 on ``[st, ed]``, 0 elsewhere.

    Only the first window is used (the official datasets have one). A no-op
    for samples without ``gt_windows``.

    Required keys: ``gt_windows``, ``duration``, ``num_clips``.
    Added keys: ``saliency_pos_labels`` / ``saliency_neg_labels`` (int64
    ``(num_pairs,)``), ``saliency_all_labels`` (float32 ``(L,)``).

    Args:
        num_pairs (int): Official ``max_n`` = 2.
        seed (int, optional): Extra seed (see :class:`WorkerRNG`).
    """

    def __init__(self, num_pairs: int = 2, seed: Optional[int] = None) -> None:
        if num_pairs < 1:
            raise ValueError(f'num_pairs must be >= 1, got {num_pairs}')
        self.num_pairs = num_pairs
        self.rng = WorkerRNG(seed)

    def transform(self, results: Dict) -> Dict:
        """Add the saliency labels to ``results``."""
        windows = results.get('gt_windows')
        if windows is None:
            return results
        num_clips = results['num_clips']
        clip = results['duration'] / num_clips
        start, end = (float(x) for x in windows[0])
        first = int(start / clip)
        last = max(0, min(int(end / clip), num_clips) - 1)
        first = min(first, last)
        n = self.num_pairs
        rng = self.rng()
        inside = np.arange(first, last + 1)
        if len(inside) >= n:
            pos = rng.choice(inside, size=n, replace=False)
        elif len(inside) == 1:
            pos = np.full(n, first)
        else:
            raise ValueError(
                f'qid {results["qid"]!r}: the window covers {len(inside)} '
                f'clips, fewer than num_pairs={n}')
        outside = np.setdiff1d(np.arange(num_clips), inside)
        neg = (
            rng.choice(outside, size=n, replace=False)
            if len(outside) >= n else pos.copy())
        all_labels = np.zeros(num_clips, dtype=np.float32)
        all_labels[first:last + 1] = 1
        results['saliency_pos_labels'] = pos.astype(np.int64)
        results['saliency_neg_labels'] = neg.astype(np.int64)
        results['saliency_all_labels'] = all_labels
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_pairs={self.num_pairs}, '
                f'rng={self.rng})')
