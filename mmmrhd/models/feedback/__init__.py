# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.feedback: inter-task feedback (TaskWeave)."""
from .converters import HighlightToMask, MomentToMask
from .feedback_head import (HGF_LEVELS, MANNERS, FeedbackHead,
                            apply_feedback_mask)
from .span_gru_feedback import SpanGRUFeedback, top1_clip_bounds
from .saliency_reencoder import SaliencyReencoder

__all__ = [
    'HighlightToMask', 'MomentToMask', 'HGF_LEVELS', 'MANNERS', 'FeedbackHead',
    'apply_feedback_mask',
    'SpanGRUFeedback', 'top1_clip_bounds', 'SaliencyReencoder'
]
