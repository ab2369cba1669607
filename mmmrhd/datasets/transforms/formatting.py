# Copyright (c) mmmrhd contributors. All rights reserved.
"""Pack a processed sample into the MR/HD data contract."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS

__all__ = ['PackMRHDInputs']

#: Target fields and their tensor dtypes.
_TARGETS = dict(
    gt_windows=torch.float32,
    gt_spans=torch.float32,
    saliency_pos_labels=torch.int64,
    saliency_neg_labels=torch.int64,
    saliency_all_labels=torch.float32,
    pos_mask=torch.float32,
    saliency_pos_index=torch.int64)

#: The transform that adds a required field (for error messages).
_PRODUCERS = dict(
    video_feat='LoadVideoFeatures',
    text_feat='LoadTextFeatures',
    num_clips='LoadVideoFeatures')


@TRANSFORMS.register_module()
class PackMRHDInputs(BaseTransform):
    """The last transform of every MR/HD pipeline.

    Output (see ``mmmrhd/datasets/collate.py``)::

        {'inputs': {'video_feat': float32 Tensor (L, Dv),
                    'text_feat': float32 Tensor (T, Dt)},
         'data_samples': {<meta_keys>, and when present:
                          'gt_windows' float32 (n, 2) seconds,
                          'gt_spans' float32 (m, 2) normalised cxw,
                          'saliency_pos_labels' / 'saliency_neg_labels'
                          int64 (K,), 'saliency_all_labels' float32 (L'),
                          'pos_mask' float32 (L'),}}

    Args:
        meta_keys (Sequence[str]): Fields copied unchanged into the data
            sample; every one is required. Defaults to the data contract's
            ``qid``, ``query``, ``vid``, ``duration``, ``clip_len``,
            ``num_clips``, ``ann`` (the raw record; metrics read the ground
            truth from it).
        optional_keys (Sequence[str]): Fields copied when present. Defaults
            to ``('sample_idx',)``.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('qid', 'query', 'vid',
                                             'duration', 'clip_len',
                                             'num_clips', 'ann'),
                 optional_keys: Sequence[str] = ('sample_idx', )) -> None:
        self.meta_keys = tuple(meta_keys)
        self.optional_keys = tuple(optional_keys)

    @staticmethod
    def _require(results: Dict, key: str):
        if key not in results:
            hint = (f' (is {_PRODUCERS[key]} in the pipeline?)'
                    if key in _PRODUCERS else '')
            raise KeyError(f'PackMRHDInputs: results lack {key!r}{hint}')
        return results[key]

    def transform(self, results: Dict) -> Dict:
        """Return ``dict(inputs=..., data_samples=...)``."""
        inputs = {
            key: torch.from_numpy(
                np.ascontiguousarray(self._require(results, key),
                                     dtype=np.float32))
            for key in ('video_feat', 'text_feat')
        }
        data_sample = {key: self._require(results, key)
                       for key in self.meta_keys}
        for key in self.optional_keys:
            if key in results:
                data_sample[key] = results[key]
        for key, dtype in _TARGETS.items():
            if results.get(key) is not None:
                data_sample[key] = torch.as_tensor(
                    np.asarray(results[key]), dtype=dtype)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(meta_keys={self.meta_keys}, '
                f'optional_keys={self.optional_keys})')
