# Copyright (c) mmmrhd contributors. All rights reserved.
"""Moves a collated MR/HD batch to the model's device."""
from typing import Any, Dict

import torch
from mmengine.model import BaseDataPreprocessor

from mmmrhd.registry import MODELS

#: Keys of ``inputs`` produced by ``mrhd_collate``.
INPUT_KEYS = ('video_feat', 'video_mask', 'text_feat', 'text_mask')


@MODELS.register_module()
class MRHDDataPreprocessor(BaseDataPreprocessor):
    """Casts the output of ``mrhd_collate`` to the model's device.

    ``inputs`` (``video_feat`` (B, L, Dv), ``video_mask`` (B, L),
    ``text_feat`` (B, T, Dt), ``text_mask`` (B, T)) are moved and cast to
    float32; the tensors of each data-sample dict (``gt_spans``, saliency
    labels, ...) are moved as they are. Other values (``ann``, strings,
    numbers) are passed through untouched.

    Args:
        non_blocking (bool): Asynchronous host-to-device copies. Defaults to
            False.
    """

    def __init__(self, non_blocking: bool = False) -> None:
        super().__init__(non_blocking)

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Cast one batch.

        Args:
            data (dict): ``{'inputs': dict, 'data_samples': list[dict]}``.
            training (bool): Unused.

        Returns:
            dict: The same structure on the model's device.
        """
        if not isinstance(data, dict) or 'inputs' not in data:
            raise KeyError("MRHDDataPreprocessor: the batch must be a dict "
                           "with key 'inputs' (output of mrhd_collate)")
        inputs = data['inputs']
        missing = [k for k in INPUT_KEYS if k not in inputs]
        if missing:
            raise KeyError(f'MRHDDataPreprocessor: inputs lack {missing}; '
                           f'expected {list(INPUT_KEYS)}')
        cast = {
            k:
            v.to(self.device, torch.float32, non_blocking=self._non_blocking)
            for k, v in inputs.items()
        }
        samples = data.get('data_samples')
        if samples is not None:
            samples = [{
                k: (v.to(self.device, non_blocking=self._non_blocking)
                    if isinstance(v, torch.Tensor) else v)
                for k, v in s.items()
            } for s in samples]
        return dict(inputs=cast, data_samples=samples)
