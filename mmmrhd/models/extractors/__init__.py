# Copyright (c) mmmrhd contributors. All rights reserved.
"""Raw video -> feature streams (the released-feature recipes)."""
from .clip_stream import CLIPFeatureStream
from .slowfast_stream import SlowFastFeatureStream
from .stream_spec import StreamSpec, check_stream_layout
from .video_feature_extractor import VideoFeatureExtractor
from .weights import load_backbone_weights

__all__ = [
    'VideoFeatureExtractor', 'SlowFastFeatureStream', 'CLIPFeatureStream',
    'StreamSpec', 'check_stream_layout', 'load_backbone_weights'
]
