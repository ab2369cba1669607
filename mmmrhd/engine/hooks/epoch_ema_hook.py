# Copyright (c) mmmrhd contributors. All rights reserved.
"""EMA of the model weights updated once per epoch (TaskWeave)."""
from typing import Optional

from mmengine.hooks import EMAHook

from mmmrhd.registry import HOOKS


@HOOKS.register_module()
class EpochEMAHook(EMAHook):
    """Exponential moving average updated once per training epoch.

    TaskWeave keeps an EMA copy of the whole model that is initialised as a
    copy of the weights at the start of training and updated once at the end
    of every epoch: ``ema = decay * ema + (1 - decay) * weights`` with
    ``decay = 0.9`` (official ``utils/model_utils.py`` ``ModelEma``, updated
    in ``train.py`` right after ``lr_scheduler.step()``). Validation, test and
    checkpoints use the EMA weights.

    This is MMEngine's :class:`~mmengine.hooks.EMAHook` (which swaps the EMA
    weights in for validation/test and into saved checkpoints, and resumes
    the EMA state) with the update moved from every iteration to the end of
    every epoch. MMEngine's :class:`ExponentialMovingAverage` *copies* the
    weights on its first update instead of averaging; so that the first
    epoch-end update averages with the initial weights, as the official
    code does, the hook performs that copy in :meth:`before_train` when the
    EMA has never been updated (a resumed EMA keeps its state).

    Args:
        momentum (float): Weight of the new weights in each update,
            ``1 - decay``. Defaults to 0.1 (TaskWeave ``ema_decay=0.9``,
            ``config.py``).
        update_buffers (bool): Average buffers too (the official EMA averages
            every ``state_dict`` entry). Defaults to True.
        ema_type (str): Averaged-model type. Defaults to
            ``'ExponentialMovingAverage'``.
        strict_load (bool): Strict loading of the EMA state. Defaults to
            False (MMEngine's default).
        **kwargs: Other arguments of the averaged model (e.g. ``device``).
    """

    priority = 'NORMAL'

    def __init__(self,
                 momentum: float = 0.1,
                 update_buffers: bool = True,
                 ema_type: str = 'ExponentialMovingAverage',
                 strict_load: bool = False,
                 **kwargs) -> None:
        if not 0.0 < momentum < 1.0:
            raise ValueError(
                f'EpochEMAHook: momentum must be in (0, 1), got {momentum}')
        super().__init__(
            ema_type=ema_type,
            strict_load=strict_load,
            momentum=momentum,
            update_buffers=update_buffers,
            **kwargs)

    def before_train(self, runner) -> None:
        """Start the average from the weights training begins with."""
        super().before_train(runner)
        if int(self.ema_model.steps) == 0:
            # First call copies (mmengine BaseAveragedModel.update_parameters)
            self.ema_model.update_parameters(self.src_model)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """No per-iteration update: the average moves once per epoch."""

    def after_train_epoch(self, runner) -> None:
        """Average the current weights into the EMA copy."""
        self.ema_model.update_parameters(self.src_model)
