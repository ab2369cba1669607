# Copyright (c) mmmrhd contributors. All rights reserved.
"""Resumable, validation-isolated global random state."""
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmmrhd.registry import HOOKS


def get_rng_state() -> Dict[str, Any]:
    """Capture the global RNG states as checkpoint-safe plain data.

    Returns:
        dict: ``torch`` (uint8 tensor), ``cuda`` (list of uint8 tensors, empty
        without CUDA), ``numpy`` (the legacy global state with the key array
        as a list of ints, so that ``weights_only`` loading needs no numpy
        types) and ``python`` (:func:`random.getstate`).
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return dict(
        torch=torch.get_rng_state(),
        cuda=(torch.cuda.get_rng_state_all()
              if torch.cuda.is_available() else []),
        numpy=[name, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
        python=random.getstate())


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore states captured by :func:`get_rng_state`."""
    torch.set_rng_state(state['torch'])
    if state['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    name, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state(
        (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make resumed training follow the uninterrupted run exactly.

    MMEngine checkpoints hold model, optimizer, schedulers and the message
    hub, but not the global random states, and validation draws from the same
    generators as training. A resumed run therefore diverges as soon as
    anything random happens (dropout, sampler shuffles seeded from the torch
    generator, dataloader worker seeds, random label sampling), and so does a
    run whose validation interval changes (the QD-DETR issue #40 effect).

    This hook

    * stores the torch / CUDA / numpy / python states in every checkpoint
      under ``rng_state`` and restores them when training resumes (in
      ``before_train``, after everything the runner does while resuming);
    * snapshots the states before validation and restores them afterwards,
      so evaluating never changes the training trajectory.

    Its priority is ``VERY_HIGH`` so the states are back in place before the
    checkpoint hook saves a best checkpoint after validation.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._resumed_state: Optional[Dict[str, Any]] = None
        self._val_state: Optional[Dict[str, Any]] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the current states in the checkpoint."""
        checkpoint['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the stored states of a resumed checkpoint for training."""
        if getattr(runner, '_resume', False) and 'rng_state' in checkpoint:
            self._resumed_state = checkpoint['rng_state']

    def before_train(self, runner) -> None:
        """Restore the states of the checkpoint training resumes from."""
        if self._resumed_state is not None:
            set_rng_state(self._resumed_state)
            self._resumed_state = None

    def before_val_epoch(self, runner) -> None:
        """Snapshot the training states."""
        self._val_state = get_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Give training its states back."""
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None
