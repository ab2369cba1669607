# Copyright (c) mmmrhd contributors. All rights reserved.
"""Switch a model's inter-task feedback on from a given epoch."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmmrhd.registry import HOOKS


@HOOKS.register_module()
class FeedbackActivationHook(Hook):
    """Turn inter-task feedback on from ``start_epoch`` (0-based).

    TaskWeave "starts the feedback process when the model is trained to half
    of the max epoch" (paper §4.4); the release hard-codes it as
    ``epoch_i + 1 > 100`` (``taskweave/model.py``), i.e. from 0-based epoch
    100 of 200, and always at inference (``epoch_i=None``). Validation during
    training receives the current epoch, so it follows the training state
    (``inference.py`` L191); test always runs with feedback.

    The model only exposes a boolean attribute (``feedback_active`` by
    default); all epoch bookkeeping lives here.

    Args:
        start_epoch (int, optional): First 0-based epoch with feedback.
            ``None`` means half of ``max_epochs`` (the paper's rule).
            Defaults to None.
        attr (str): Name of the model's boolean switch. Defaults to
            ``'feedback_active'``.
    """

    priority = 'NORMAL'

    def __init__(self, start_epoch=None, attr: str = 'feedback_active'):
        if start_epoch is not None and (not isinstance(start_epoch, int)
                                        or start_epoch < 0):
            raise ValueError('FeedbackActivationHook: start_epoch must be a '
                             f'non-negative int or None, got {start_epoch!r}')
        self.start_epoch = start_epoch
        self.attr = attr

    def _model(self, runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if not hasattr(model, self.attr):
            raise AttributeError(
                f'FeedbackActivationHook: {type(model).__name__} has no '
                f'attribute "{self.attr}" to switch feedback on/off')
        return model

    def _start(self, runner) -> int:
        if self.start_epoch is not None:
            return self.start_epoch
        return runner.max_epochs // 2

    def before_train_epoch(self, runner) -> None:
        """Set the switch from the epoch that is about to run."""
        setattr(self._model(runner), self.attr,
                runner.epoch >= self._start(runner))

    def before_test_epoch(self, runner) -> None:
        """Test always runs with feedback (official ``epoch_i=None``)."""
        setattr(self._model(runner), self.attr, True)
