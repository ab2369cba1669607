# Copyright (c) mmmrhd contributors. All rights reserved.
"""The user project's hook and metric."""
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook

from mmmrhd.engine.hooks import find_feedback_switches
from .registry import HOOKS, METRICS


@HOOKS.register_module()
class RecordFeedback(Hook):
    """Records the FeedbackHead switches seen by each train/val epoch."""

    priority = 'LOW'  # after FeedbackActivationHook (NORMAL)

    def __init__(self) -> None:
        self.train, self.val = [], []

    def _state(self, runner):
        return [m.feedback_active for m in find_feedback_switches(runner.model)]

    def before_train_epoch(self, runner) -> None:
        self.train.append(self._state(runner))

    def before_val_epoch(self, runner) -> None:
        self.val.append(self._state(runner))


@METRICS.register_module()
class CountPredictions(BaseMetric):
    """Counts the prediction dicts (a user metric beside ours)."""

    default_prefix = 'user'

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(1 for _ in data_samples)

    def compute_metrics(self, results) -> dict:
        return dict(num_preds=len(results))
