# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training hooks."""
from .epoch_ema_hook import EpochEMAHook
from .feedback_activation_hook import FeedbackActivationHook

__all__ = ['EpochEMAHook', 'FeedbackActivationHook']
