# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.detectors: complete MR/HD models."""
from .base_mrhd_detector import BaseMRHDDetector
from .moment_detr import MomentDETR
from .qd_detr import QDDETR
from .taskweave import TaskWeave
from .tr_detr import TRDETR
from .videolights import VideoLights, videolights_saliency_loss

__all__ = ['BaseMRHDDetector', 'MomentDETR', 'QDDETR', 'TaskWeave', 'TRDETR',
           'VideoLights', 'videolights_saliency_loss']
