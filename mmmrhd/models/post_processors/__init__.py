# Copyright (c) mmmrhd contributors. All rights reserved.
"""Post-processing of raw model outputs into official prediction records."""
from .moment_post_processor import MomentPostProcessor
from .temporal_nms import batched_temporal_nms, pairwise_window_iou

__all__ = [
    'MomentPostProcessor', 'batched_temporal_nms', 'pairwise_window_iou'
]
