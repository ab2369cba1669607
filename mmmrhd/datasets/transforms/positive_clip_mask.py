# Copyright (c) mmmrhd contributors. All rights reserved.
"""Binary per-clip relevance target (TR-DETR ``pos_mask``)."""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS

__all__ = ['GeneratePositiveClipMask']

MODES = ('relevant', 'top_half', 'saliency_labels')


@TRANSFORMS.register_module()
class GeneratePositiveClipMask(BaseTransform):
    """``pos_mask``: 1 at the positive clips, 0 elsewhere (length ``L``).

    The target of the clip-text alignment loss
    (:class:`~mmmrhd.models.losses.ClipTextAlignmentLoss`), from the
    official TR-DETR ``start_end_dataset.py`` L109-160:

    * ``mode='relevant'`` (QVHighlights, Charades-STA): the relevant clip
      ids (``saliency_clip_ids``);
    * ``mode='top_half'`` (TVSum, every clip scored): the ``n - L // 2``
      clips with the highest ``saliency_agg`` among the ``n`` labelled clips
      inside the video (official: ``argsort(agg)[L // 2:]``; here a stable
      sort, so ties keep file order);
    * ``mode='saliency_labels'`` (datasets without clip annotations, e.g.
      Charades-STA with :class:`GenerateWindowSaliencyLabels`; our choice,
      TR-DETR ships no such setting): the clips with
      ``saliency_all_labels > 0`` (put this transform after the label
      transform).

    Ids ``>= L`` (labels beyond the features) are dropped by default. With
    ``official_compat=True`` the released bug is reproduced (fixtures README
    quirk 16): the mask is rebuilt with length ``max_id + 1`` and the old
    all-zero mask is copied over its first ``L`` entries, so only the
    overflow slot stays 1.

    A no-op for samples without ``saliency_clip_ids`` (``saliency_all_labels``
    for ``'saliency_labels'``).

    Required keys: ``saliency_clip_ids``, ``num_clips`` (and
    ``saliency_agg`` for ``'top_half'``; ``saliency_all_labels`` instead of
    the ids for ``'saliency_labels'``).
    Added keys: ``pos_mask`` (float32 ``(L,)``, or longer in compat mode).

    Args:
        mode (str): ``'relevant'`` or ``'top_half'``. Defaults to
            ``'relevant'``.
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self,
                 mode: str = 'relevant',
                 official_compat: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f'GeneratePositiveClipMask: mode must be one of '
                             f'{MODES}, got {mode!r}')
        self.mode = mode
        self.official_compat = official_compat

    def transform(self, results: Dict) -> Dict:
        """Add ``pos_mask`` to ``results``."""
        num_clips = int(results['num_clips'])
        if self.mode == 'saliency_labels':
            labels = results.get('saliency_all_labels')
            if labels is None:
                return results
            mask = np.zeros(num_clips, dtype=np.float32)
            labels = np.asarray(labels)[:num_clips]
            mask[:len(labels)] = labels > 0
            results['pos_mask'] = mask
            return results
        ids = results.get('saliency_clip_ids')
        if ids is None:
            return results
        ids = np.asarray(ids, dtype=np.int64)
        if self.mode == 'top_half':
            if 'saliency_agg' not in results:
                raise KeyError(f"GeneratePositiveClipMask: qid "
                               f"{results.get('qid')!r} has no "
                               "'saliency_agg' (needed by mode='top_half')")
            agg = np.asarray(results['saliency_agg'])
            inside = ids < num_clips
            ids, agg = ids[inside], agg[inside]
            order = np.argsort(agg, kind='stable')  # increasing
            ids = ids[order[num_clips // 2:]]
        mask = np.zeros(num_clips, dtype=np.float32)
        if len(ids) and ids.max() >= num_clips and self.official_compat:
            grown = np.zeros(int(ids.max()) + 1, dtype=np.float32)
            grown[ids] = 1
            grown[:num_clips] = mask
            mask = grown
        else:
            mask[ids[ids < num_clips]] = 1
        results['pos_mask'] = mask
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, '
                f'official_compat={self.official_compat})')
