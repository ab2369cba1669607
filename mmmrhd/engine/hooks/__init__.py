# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training hooks."""
from .epoch_ema_hook import EpochEMAHook
from .feedback_activation_hook import FeedbackActivationHook
from .mrhd_visualization_hook import (MRHDVisualizationHook,
                                      add_show_dir_hook)
from .rng_state_hook import RNGStateHook, get_rng_state, set_rng_state

__all__ = [
    'EpochEMAHook', 'FeedbackActivationHook', 'RNGStateHook', 'get_rng_state',
    'set_rng_state', 'MRHDVisualizationHook', 'add_show_dir_hook'
]
