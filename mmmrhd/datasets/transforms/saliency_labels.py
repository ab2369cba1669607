# Copyright (c) mmmrhd contributors. All rights reserved.
"""Highlight (saliency) training targets from per-clip scores."""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS
from .worker_rng import WorkerRNG

__all__ = ['GenerateSaliencyLabels']


@TRANSFORMS.register_module()
class GenerateSaliencyLabels(BaseTransform):
    """Hard/easy positive and negative clips and per-clip saliency targets.

    The official ``get_saliency_labels_all`` (TaskWeave
    ``start_end_dataset.py`` L180-224; ``..._tvsum`` L226-248), from the
    relevant clip ids and their aggregated scores ``agg`` (set by the
    dataset):

    * hard positive(s) = the ``num_pairs`` relevant clips with the highest
      ``agg``, hard negative(s) = those with the LOWEST ``agg`` (still
      relevant clips), each clamped to ``min(id, L - 1)``. Ties: the official
      code takes ``np.argsort`` (quicksort), whose tie order is platform
      dependent (numpy 2 dispatches to unstable SIMD sorts); here the sort is
      STABLE, so the hard positive is the LAST clip in file order among
      those with the top score and the hard negative the FIRST among those
      with the lowest score;
    * with ``add_easy``: easy positive(s) = random relevant clip(s), easy
      negative(s) = random clip(s) outside the relevant ids; if fewer than
      ``num_pairs`` clips are outside, the hard ones are copied (official).
      Easy positives are also clamped to ``L - 1`` (the official code does
      not clamp them, so an id == L could index past the video);
    * ``saliency_all_labels`` = ``agg`` at the relevant ids, 0 elsewhere.

    Relevant ids >= L (features shorter than the annotation) follow
    ``overflow``: ``'grow'`` (official QVHighlights) tolerates one id equal
    to L by growing the labels to L + 1 slots and raises for anything else
    (the official code crashes there); ``'drop'`` (official TVSum, whose
    labels cover every clip) ignores them. Labels shorter than L (TVSum
    label shorter than the features) are zero-padded to L (as VideoLights;
    TaskWeave/QD-DETR keep them short).

    A no-op for samples without ``saliency_clip_ids``.

    Required keys: ``saliency_clip_ids`` (int64 ``(K,)``), ``saliency_agg``
    (``(K,)``), ``num_clips``.
    Added keys: ``saliency_pos_labels`` / ``saliency_neg_labels`` (int64
    ``(num_pairs * (1 + add_easy),)``, hard first), ``saliency_all_labels``
    (float32 ``(L,)`` or ``(L + 1,)``).

    Args:
        num_pairs (int): Clips per kind (official ``max_n`` = 1).
        add_easy (bool): Add easy pairs (official: True for QVHighlights,
            False for TVSum).
        overflow (str): ``'grow'`` or ``'drop'``, see above.
        seed (int, optional): Extra seed of the easy draws (see
            :class:`WorkerRNG`).
    """

    def __init__(self,
                 num_pairs: int = 1,
                 add_easy: bool = True,
                 overflow: str = 'grow',
                 seed: Optional[int] = None) -> None:
        if num_pairs < 1:
            raise ValueError(f'num_pairs must be >= 1, got {num_pairs}')
        if overflow not in ('grow', 'drop'):
            raise ValueError("overflow must be 'grow' or 'drop', got "
                             f'{overflow!r}')
        self.num_pairs = num_pairs
        self.add_easy = add_easy
        self.overflow = overflow
        self.rng = WorkerRNG(seed)

    def _fit_to_video(self, ids: np.ndarray, agg: np.ndarray,
                      num_clips: int, results: Dict):
        """Apply ``overflow``; return the ids, scores and label length."""
        beyond = ids >= num_clips
        if not beyond.any():
            return ids, agg, num_clips
        if self.overflow == 'drop':
            keep = ~beyond
            if not keep.any():
                raise ValueError(
                    f'qid {results["qid"]!r} (vid {results["vid"]!r}): every '
                    f'labelled clip is beyond the {num_clips} feature clips')
            return ids[keep], agg[keep], num_clips
        if beyond.sum() > 1 or ids[beyond].max() > num_clips:
            raise ValueError(
                f'qid {results["qid"]!r} (vid {results["vid"]!r}): relevant '
                f'clip ids {ids[beyond].tolist()} are >= the {num_clips} '
                'feature clips (only one id equal to the length is '
                "tolerated); check clip_len and the features, or use "
                "overflow='drop'")
        return ids, agg, num_clips + 1

    def transform(self, results: Dict) -> Dict:
        """Add the saliency labels to ``results``."""
        ids = results.get('saliency_clip_ids')
        if ids is None:
            return results
        agg = np.asarray(results['saliency_agg'])
        num_clips = results['num_clips']
        ids, agg, size = self._fit_to_video(
            np.asarray(ids), agg, num_clips, results)
        all_labels = np.zeros(size, dtype=np.float32)
        all_labels[ids] = agg

        n = self.num_pairs
        if len(ids) < n:
            raise ValueError(
                f'qid {results["qid"]!r}: {len(ids)} labelled clip(s) inside '
                f'the video, fewer than num_pairs={n}')
        order = np.argsort(agg, kind='stable')  # increasing
        hard_pos = np.minimum(ids[order[-n:]], num_clips - 1)
        hard_neg = np.minimum(ids[order[:n]], num_clips - 1)
        pos, neg = [hard_pos], [hard_neg]
        if self.add_easy:
            pool = np.setdiff1d(np.arange(num_clips), ids)
            if len(pool) >= n:
                rng = self.rng()
                easy_pos = rng.choice(ids, size=n, replace=False)
                pos.append(np.minimum(easy_pos, num_clips - 1))
                neg.append(rng.choice(pool, size=n, replace=False))
            else:  # official: copy the hard ones
                pos.append(hard_pos)
                neg.append(hard_neg)
        results['saliency_pos_labels'] = np.concatenate(pos).astype(np.int64)
        results['saliency_neg_labels'] = np.concatenate(neg).astype(np.int64)
        results['saliency_all_labels'] = all_labels
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_pairs={self.num_pairs}, '
                f'add_easy={self.add_easy}, overflow={self.overflow!r}, '
                f'rng={self.rng})')
