# Copyright (c) mmmrhd contributors. All rights reserved.
"""Video and text backbones for feature extraction (raw-video path)."""
from .caffe2_loader import (caffe2_to_pytorch_name, load_caffe2_slowfast,
                            pytorch_to_caffe2_name, read_caffe2_blobs,
                            save_caffe2_blobs)
from .clip_adapters import (CLIP_ARCHS, CLIPTextAdapter, CLIPVisionAdapter,
                            load_clip_state_dict)
from .clip_model import CLIPTextTransformer, CLIPVisionTransformer
from .slowfast import SlowFastR50

__all__ = [
    'SlowFastR50', 'CLIPVisionAdapter', 'CLIPTextAdapter', 'CLIP_ARCHS',
    'load_clip_state_dict', 'CLIPVisionTransformer', 'CLIPTextTransformer',
    'load_caffe2_slowfast', 'read_caffe2_blobs',
    'caffe2_to_pytorch_name', 'pytorch_to_caffe2_name', 'save_caffe2_blobs'
]
