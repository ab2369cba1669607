# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.heads: prediction heads."""
from .lightweight_hd_head import LightweightHDHead
from .linear_saliency_head import LinearSaliencyHead
from .moment_head import MomentHead
from .query_saliency_head import QuerySaliencyHead

__all__ = [
    'LightweightHDHead', 'LinearSaliencyHead', 'MomentHead',
    'QuerySaliencyHead'
]
