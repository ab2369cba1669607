# Copyright (c) mmmrhd contributors. All rights reserved.
"""Epoch-dependent loss factors (VideoLights' adaptive hard losses)."""
from typing import List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from mmmrhd.registry import HOOKS


@HOOKS.register_module()
class AdaptiveLossScheduleHook(Hook):
    """Set ``epoch_factor = scale * (epoch + offset)`` on the model's loss
    terms before every training epoch.

    VideoLights multiplies its hard positive/negative saliency losses by
    ``(epoch_i + 1) * hard_pos_neg_loss_coef`` (0-based ``epoch_i``;
    official ``model.py`` L407-427, ``train.py`` L66), so the weight grows
    linearly to x2000 at epoch 200. The loss modules
    (:class:`~mmmrhd.models.losses.AdaptiveHardSaliencyLoss`) only expose
    a float attribute; the epoch bookkeeping lives here, so a resumed run
    gets the factor of the epoch it resumes at.

    Every submodule of the model that has the attribute ``attr`` is set; a
    model without any raises (the hook would silently do nothing).

    Args:
        offset (int): Added to the 0-based epoch. Defaults to 1 (official).
        scale (float): Multiplies the result. Defaults to 1.
        attr (str): Attribute name. Defaults to ``'epoch_factor'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 offset: int = 1,
                 scale: float = 1.0,
                 attr: str = 'epoch_factor') -> None:
        self.offset = offset
        self.scale = scale
        self.attr = attr

    def _targets(self, runner) -> List[nn.Module]:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        found = [m for m in model.modules() if hasattr(m, self.attr)]
        if not found:
            raise AttributeError(
                f'AdaptiveLossScheduleHook: no module of '
                f'{type(model).__name__} has the attribute "{self.attr}" '
                '(is an adaptive loss configured?)')
        return found

    def factor(self, epoch: int) -> float:
        """The factor of 0-based ``epoch``."""
        return self.scale * (epoch + self.offset)

    def before_train_epoch(self, runner) -> None:
        """Set the factor of the epoch that is about to run."""
        value = self.factor(runner.epoch)
        for module in self._targets(runner):
            setattr(module, self.attr, value)
