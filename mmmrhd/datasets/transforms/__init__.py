# Copyright (c) mmmrhd contributors. All rights reserved.
"""Transforms of MR/HD data pipelines (registered in ``TRANSFORMS``)."""
from mmmrhd.utils.mmcv_compat import check_mmcv_version

# mmcv or mmcv-lite, in the supported range (mmmrhd.utils.mmcv_compat); the
# transforms below subclass mmcv.transforms.BaseTransform.
check_mmcv_version()

# isort: off
from .append_tef import AppendTEF, temporal_endpoint_features
from .formatting import PackMRHDInputs
from .load_text_features import LoadTextFeatures
from .load_video_features import LoadVideoFeatures
from .saliency_labels import GenerateSaliencyLabels
from .saliency_pos_index import GenerateSaliencyPosIndex
from .positive_clip_mask import GeneratePositiveClipMask
from .span_targets import GenerateSpanTargets
from .video_decoding import (DecodeVideoFrames, VideoDecodeError, VideoInfo,
                             decode_frames, probe_video)
from .window_saliency_labels import GenerateWindowSaliencyLabels
from .worker_rng import WorkerRNG

__all__ = [
    'LoadVideoFeatures', 'LoadTextFeatures', 'AppendTEF',
    'temporal_endpoint_features', 'GenerateSpanTargets',
    'GenerateSaliencyLabels', 'GenerateSaliencyPosIndex',
    'GenerateWindowSaliencyLabels', 'PackMRHDInputs', 'WorkerRNG',
    'GeneratePositiveClipMask', 'DecodeVideoFrames', 'VideoDecodeError',
    'VideoInfo', 'decode_frames', 'probe_video'
]
