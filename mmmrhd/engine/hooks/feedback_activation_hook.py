# Copyright (c) mmmrhd contributors. All rights reserved.
"""Switch a model's inter-task feedback on from a given epoch."""
from typing import List, Optional

from mmengine.hooks import Hook
from torch import nn

from mmmrhd.registry import HOOKS
from mmmrhd.utils.errors import ConfigError


def find_feedback_switches(model: nn.Module,
                           attr: str = 'feedback_active') -> List[nn.Module]:
    """Submodules (the model itself included) that carry a feedback switch.

    A switch is an *instance* attribute named ``attr``, as every
    :class:`~mmmrhd.models.feedback.FeedbackHead` has. ``model.modules()``
    also walks into wrappers (DDP's and EMA's ``module``), so heads nested
    at any depth are found. Properties (e.g. ``TaskWeave.feedback_active``,
    which forwards to its head) are not switches of their own.

    Args:
        model (nn.Module): The (possibly wrapped) model.
        attr (str): Name of the switch. Defaults to ``'feedback_active'``.

    Returns:
        list[nn.Module]: The modules, each once, in ``modules()`` order.
    """
    return [m for m in model.modules() if attr in vars(m)]


@HOOKS.register_module()
class FeedbackActivationHook(Hook):
    """Turn inter-task feedback on from ``start_epoch`` (0-based).

    TaskWeave "starts the feedback process when the model is trained to half
    of the max epoch" (paper §4.4); the release hard-codes it as
    ``epoch_i + 1 > 100`` (``taskweave/model.py``), i.e. from 0-based epoch
    100 of 200, and always at inference (``epoch_i=None``). Validation during
    training receives the current epoch, so it follows the training state
    (``inference.py`` L191); test always runs with feedback.

    The hook sets the boolean switch (``feedback_active``) of every module
    of the model that has one: each
    :class:`~mmmrhd.models.feedback.FeedbackHead`, nested at any depth (a
    user model that contains one works as well as ``TaskWeave``), also
    inside DDP or EMA wrappers. All epoch bookkeeping lives here.

    Args:
        start_epoch (int, optional): First 0-based epoch with feedback.
            ``None`` means half of ``max_epochs`` (the paper's rule).
            Defaults to None.
        attr (str): Name of the switch attribute. Defaults to
            ``'feedback_active'``.

    Raises:
        ConfigError: (when the run starts) the model contains no module with
            the switch, e.g. a TaskWeave config with ``feedback=None``; the
            hook would silently do nothing.
    """

    priority = 'NORMAL'

    def __init__(self,
                 start_epoch: Optional[int] = None,
                 attr: str = 'feedback_active') -> None:
        if start_epoch is not None and (not isinstance(start_epoch, int)
                                        or isinstance(start_epoch, bool)
                                        or start_epoch < 0):
            raise ConfigError('FeedbackActivationHook: start_epoch must be a '
                              f'non-negative int or None, got {start_epoch!r}')
        self.start_epoch = start_epoch
        self.attr = attr

    def _switches(self, runner) -> List[nn.Module]:
        switches = find_feedback_switches(runner.model, self.attr)
        if not switches:
            model = runner.model
            inner = getattr(model, 'module', model)
            raise ConfigError(
                f'FeedbackActivationHook: the model ({type(inner).__name__}) '
                f'contains no module with a "{self.attr}" switch (a '
                'FeedbackHead); remove the hook from custom_hooks or give '
                'the model a FeedbackHead')
        return switches

    def _set(self, runner, active: bool) -> None:
        for module in self._switches(runner):
            setattr(module, self.attr, active)

    def _start(self, runner) -> int:
        if self.start_epoch is not None:
            return self.start_epoch
        return runner.max_epochs // 2

    def before_run(self, runner) -> None:
        """Fail early when the model has nothing to switch."""
        self._switches(runner)

    def before_train_epoch(self, runner) -> None:
        """Set the switch from the epoch that is about to run."""
        self._set(runner, runner.epoch >= self._start(runner))

    def before_test_epoch(self, runner) -> None:
        """Test always runs with feedback (official ``epoch_i=None``)."""
        self._set(runner, True)
