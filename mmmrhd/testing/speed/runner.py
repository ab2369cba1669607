# Copyright (c) mmmrhd contributors. All rights reserved.
"""The timed unit of the model benchmark: one implementation's train step
and inference forward on the benchmark batch."""
import contextlib
from typing import Any, Callable, Dict, Optional, Tuple

import torch

from mmmrhd.engine.hooks import find_feedback_switches
from mmmrhd.registry import OPTIMIZERS

GRAD_CLIP, LR, WEIGHT_DECAY = 0.1, 1e-4, 1e-4  # official train.py / config


@contextlib.contextmanager
def _patched(owner: Any, attr: str, value: Any):
    old = getattr(owner, attr)
    setattr(owner, attr, value)
    try:
        yield
    finally:
        setattr(owner, attr, old)


def official_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, Any]:
    """Our padded inputs in the official keyword layout (``src_txt``,
    ``src_txt_mask``, ``src_vid``, ``src_vid_mask``)."""
    return dict(
        src_txt=inputs['text_feat'],
        src_txt_mask=inputs['text_mask'],
        src_vid=inputs['video_feat'],
        src_vid_mask=inputs['video_mask'])


def cuda_as_identity(device: torch.device):
    """Context in which the ``Tensor.cuda`` method is the identity (CPU
    runs of official code that moves tensors with it); a no-op on CUDA."""
    if device.type == 'cuda':
        return contextlib.nullcontext()
    return _patched(torch.Tensor, 'cuda', lambda t, *a, **k: t)


def optimizer_step(model: torch.nn.Module, optimizer: Any,
                   total: torch.Tensor, max_norm: float = GRAD_CLIP) -> float:
    """``zero_grad`` -> ``backward`` -> ``clip_grad_norm_(max_norm)`` (if
    > 0) -> ``step``; returns ``float(total)``."""
    optimizer.zero_grad()
    total.backward()
    if max_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(total.detach())


class Runner:
    """Timed train step and inference of one implementation."""

    name = 'ours'

    def __init__(self,
                 model: torch.nn.Module,
                 batch: Dict[str, Any],
                 optimizer: Optional[dict] = None):
        self.model = model
        self.inputs = batch['inputs']
        self.samples = batch['data_samples']
        params = [p for p in model.parameters() if p.requires_grad]
        if optimizer is None:  # the official optimizer
            self.optimizer = torch.optim.AdamW(
                params, lr=LR, weight_decay=WEIGHT_DECAY)
        else:  # the config's (e.g. fused AdamW)
            self.optimizer = OPTIMIZERS.build(dict(optimizer, params=params))

    @property
    def has_feedback(self) -> bool:
        """Whether the model has a feedback switch (a ``FeedbackHead``)."""
        return bool(find_feedback_switches(self.model))

    def set_feedback(self, on: bool) -> None:
        for module in find_feedback_switches(self.model):
            module.feedback_active = on

    def train_step(self) -> float:
        self.model.train()
        losses = self.model(self.inputs, self.samples, mode='loss')
        total, _ = self.model.parse_losses(losses)
        return optimizer_step(self.model, self.optimizer, total)

    def infer_step(self) -> None:
        self.model.eval()
        self.set_feedback(True)
        with torch.no_grad():
            self.model._forward(self.inputs, with_neg=False)

    def patch(self):
        return contextlib.nullcontext()


def _row_step(runner: Runner, row: str, steps: int,
              infer_steps: int) -> Tuple[Callable, int]:
    """The step function of ``row`` (feedback set) and its timed count."""
    if row == 'infer':
        return runner.infer_step, infer_steps
    runner.set_feedback(row == 'train_on')
    return runner.train_step, steps
