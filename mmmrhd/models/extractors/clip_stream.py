# Copyright (c) mmmrhd contributors. All rights reserved.
"""CLIP image features of a video, one frame per clip, the HERO way."""
from typing import Optional

import numpy as np
import torch
from torch import nn

from mmmrhd.datasets.transforms.video_decoding import (VideoInfo,
                                                       decode_frames,
                                                       probe_video)
from mmmrhd.datasets.transforms.video_sampling import hero_clip_frame_rate
from mmmrhd.registry import MODELS, build_part
from .stream_spec import StreamSpec

__all__ = ['CLIPFeatureStream']

# OpenAI CLIP normalisation (clip/clip.py ``_transform``).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MODELS.register_module()
class CLIPFeatureStream(nn.Module):
    """One CLIP ``encode_image`` row per ``clip_len`` seconds.

    HERO ``clip/video_loader.py``: decode with the ``fps`` filter at
    ``1 / clip_len`` (FFmpeg then takes the middle frame of each clip;
    videos shorter than ``clip_len + 0.1`` s use ``2 / max(int(duration),
    1)``), short side -> 224 bicubic, centre crop 224, rgb24; then
    ``(x / 255 - mean) / std`` with the CLIP mean/std and the projected,
    unnormalised image embedding.

    Args:
        backbone (dict | nn.Module): A vision encoder with ``out_dim``
            (default :class:`CLIPVisionAdapter`).
        name (str): Stream name. Defaults to ``'clip'``.
        clip_len (float): Seconds per row (2 QVHighlights, 1 Charades-STA).
        short_side (int): Resize target of the short side (224).
        crop_size (int): Centre crop (224).
        backend (str): Decoder, ``'pyav'`` (reference) or ``'decord'``.
        batch_size (int): Frames per forward pass (HERO 64).
    """

    def __init__(self,
                 backbone=dict(type='CLIPVisionAdapter'),
                 name: str = 'clip',
                 clip_len: float = 2,
                 short_side: int = 224,
                 crop_size: int = 224,
                 backend: str = 'pyav',
                 batch_size: int = 64) -> None:
        super().__init__()
        self.backbone = build_part(MODELS, backbone)
        self.spec = StreamSpec(name, int(self.backbone.out_dim),
                               float(clip_len), 1.0 / clip_len)
        self.clip_len = clip_len
        self.short_side = short_side
        self.crop_size = crop_size
        self.backend = backend
        self.batch_size = batch_size
        self.register_buffer(
            'pixel_mean', torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer(
            'pixel_std', torch.tensor(CLIP_STD).view(1, 3, 1, 1), False)

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 ``(N, H, W, 3)`` -> float32 ``(N, 3, H, W)``."""
        x = torch.from_numpy(frames).to(self.pixel_mean.device).float()
        x = x.permute(0, 3, 1, 2) / 255.
        return (x - self.pixel_mean) / self.pixel_std

    @torch.no_grad()
    def extract(self, path: str,
                info: Optional[VideoInfo] = None) -> np.ndarray:
        """float32 ``(num_frames_sampled, dim)`` features."""
        info = info or probe_video(path)
        fps = hero_clip_frame_rate(info.duration, self.clip_len)
        frames = decode_frames(path, fps, self.short_side, self.crop_size,
                               self.backend, info)
        self.backbone.eval()
        out = []
        for start in range(0, len(frames), self.batch_size):
            batch = self.preprocess(frames[start:start + self.batch_size])
            out.append(self.backbone(batch).float().cpu())
        return torch.cat(out).numpy()
