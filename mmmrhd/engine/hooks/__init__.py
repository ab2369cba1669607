# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training hooks."""
from .adaptive_loss_schedule_hook import AdaptiveLossScheduleHook
from .checkpoint_hook import BEST_RECORD, SafeCheckpointHook, best_checkpoint
from .epoch_ema_hook import EpochEMAHook
from .feedback_activation_hook import (FeedbackActivationHook,
                                       find_feedback_switches)
from .mrhd_visualization_hook import (MRHDVisualizationHook,
                                      add_show_dir_hook)
from .rng_state_hook import RNGStateHook, get_rng_state, set_rng_state

__all__ = [
    'AdaptiveLossScheduleHook', 'BEST_RECORD', 'SafeCheckpointHook',
    'best_checkpoint', 'EpochEMAHook', 'FeedbackActivationHook',
    'MRHDVisualizationHook', 'RNGStateHook', 'add_show_dir_hook',
    'find_feedback_switches', 'get_rng_state', 'set_rng_state'
]
