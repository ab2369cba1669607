# Copyright (c) mmmrhd contributors. All rights reserved.
"""Span (temporal window) operations shared by datasets, models and metrics."""
from .spans import (generalized_temporal_iou, span_cxw_to_xx, span_xx_to_cxw,
                    temporal_iou)

__all__ = [
    'span_cxw_to_xx', 'span_xx_to_cxw', 'temporal_iou',
    'generalized_temporal_iou'
]
