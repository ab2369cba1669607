# Copyright (c) mmmrhd contributors. All rights reserved.
"""Positive-clip indicator of the saliency labels (VideoLights)."""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS

__all__ = ['GenerateSaliencyPosIndex']


@TRANSFORMS.register_module()
class GenerateSaliencyPosIndex(BaseTransform):
    """``saliency_pos_index = (saliency_all_labels > 0)`` as int64.

    The target of VideoLights' adaptive hard positive/negative losses
    (:class:`~mmmrhd.models.losses.AdaptiveHardSaliencyLoss`), exactly as
    the official ``start_end_dataset.py`` (L204, L285, L306; TVSum: ``agg /
    80 * 12 > 0``, the same clips): 1 at the clips with a positive saliency
    label, 0 elsewhere, the same length as ``saliency_all_labels`` (so the
    one-slot growth of an overflowing relevant id is kept). Place it after
    the transform that builds ``saliency_all_labels``
    (``GenerateSaliencyLabels`` / ``GenerateWindowSaliencyLabels``). The
    loss computes the same indicator from the labels when this target is
    absent; the transform makes it explicit (and overridable).

    A no-op for samples without ``saliency_all_labels``.

    Required keys: ``saliency_all_labels``.
    Added keys: ``saliency_pos_index`` (int64, same length).
    """

    def transform(self, results: Dict) -> Dict:
        """Add ``saliency_pos_index`` to ``results``."""
        labels = results.get('saliency_all_labels')
        if labels is None:
            return results
        results['saliency_pos_index'] = (np.asarray(labels) > 0).astype(
            np.int64)
        return results
