# Copyright (c) mmmrhd contributors. All rights reserved.
"""High-level inference: :class:`MRHDInferencer` and its sliding windows."""
from .feature_inputs import read_stream_features
from .mrhd_inferencer import MRHDInferencer, VideoInput
from .sliding_window import merge_window_predictions, window_starts

__all__ = [
    'MRHDInferencer', 'VideoInput', 'window_starts',
    'merge_window_predictions', 'read_stream_features'
]
