# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load pretrained backbone weights from a local file."""
import os.path as osp

import torch
from torch import nn

from mmmrhd.models.backbones.caffe2_loader import load_caffe2_slowfast
from mmmrhd.utils.errors import CheckpointError

__all__ = ['load_backbone_weights']


def load_backbone_weights(model: nn.Module, path: str) -> None:
    """Load a local weight file into a backbone, strictly.

    * ``.pkl``: a PySlowFast Caffe2 checkpoint (restricted unpickler,
      :func:`load_caffe2_slowfast`);
    * anything else: a ``torch.save`` d state dict (or ``{'state_dict':
      ...}``) read with ``weights_only=True``, loaded with ``strict=True``.

    Raises:
        CheckpointError: missing/unreadable file or names/shapes that do
            not fit.
    """
    if not osp.isfile(path):
        raise CheckpointError(f'backbone weights not found: {path}')
    if path.endswith('.pkl'):
        load_caffe2_slowfast(model, path)
        return
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file
        raise CheckpointError(
            f'cannot read backbone weights {path}: {exc}') from None
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        raise CheckpointError(
            f'backbone weights {path} do not fit {type(model).__name__}: '
            f'{str(exc).splitlines()[0]} {exc}') from None
