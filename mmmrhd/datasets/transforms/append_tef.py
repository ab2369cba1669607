# Copyright (c) mmmrhd contributors. All rights reserved.
"""Temporal endpoint features (TEF)."""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS

__all__ = ['AppendTEF', 'temporal_endpoint_features']


def temporal_endpoint_features(num_clips: int) -> np.ndarray:
    """The official TEF columns of a video of ``num_clips`` clips.

    ``st = arange(0, L, 1.0) / L`` and ``ed = st + 1.0 / L``, in float32 in
    this order (TaskWeave ``start_end_dataset.py`` L97-105, ``ctx_mode`` =
    ``video_tef``). ``ed`` is therefore not ``(i + 1) / L``: it differs by
    1 ulp at about a quarter of the positions.

    Args:
        num_clips (int): The video length L (>= 1).

    Returns:
        np.ndarray: float32 ``(L, 2)`` ``[st, ed]`` rows.
    """
    start = np.arange(0, num_clips, 1.0, dtype=np.float32) / np.float32(
        num_clips)
    end = start + np.float32(1.0 / num_clips)
    return np.stack([start, end], axis=1)


@TRANSFORMS.register_module()
class AppendTEF(BaseTransform):
    """Append the two TEF columns to ``video_feat``.

    Required keys: ``video_feat`` ``(L, D)``.
    Modified keys: ``video_feat`` becomes ``(L, D + 2)``.
    """

    def transform(self, results: Dict) -> Dict:
        """Append ``[st, ed]`` to every clip of ``results['video_feat']``."""
        feat = results['video_feat']
        tef = temporal_endpoint_features(feat.shape[0])
        results['video_feat'] = np.concatenate(
            [feat, tef.astype(feat.dtype)], axis=1)
        return results
