# Copyright (c) mmmrhd contributors. All rights reserved.
"""SlowFast clip features of a video, the HERO way."""
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmmrhd.datasets.transforms.video_decoding import (VideoInfo,
                                                       decode_frames,
                                                       probe_video)
from mmmrhd.datasets.transforms.video_sampling import (
    group_clip_indices, hero_fast_frame_indices, slow_frame_indices)
from mmmrhd.registry import MODELS, build_part
from .stream_spec import StreamSpec
from .weights import load_backbone_weights

__all__ = ['SlowFastFeatureStream']


@MODELS.register_module()
class SlowFastFeatureStream(nn.Module):
    """One SlowFast feature row per ``clip_len`` seconds (HERO recipe).

    1. decode at ``target_fps`` (30), short side -> 224 (bicubic), centre
       crop 224, rgb24 (:func:`decode_frames`);
    2. group into clips of ``clip_len * target_fps`` frames, padding as HERO
       and keeping ``ceil(duration / clip_len)`` clips
       (:func:`group_clip_indices`);
    3. per clip, ``num_frames`` fast frames at
       :func:`hero_fast_frame_indices` (for the source's floored frame
       rate), slow = :func:`slow_frame_indices`;
    4. ``(x / 255 - mean) / (std + 1e-8)`` in float32 (HERO
       ``extract.py`` / ``preprocessing.py`` ``Normalize``);
    5. backbone -> ``(num_clips, dim)``.

    Args:
        backbone (dict | nn.Module): A backbone taking ``[slow, fast]``
            with an ``out_dim`` (default :class:`SlowFastR50`).
        pretrained (str, optional): Weights: Caffe2 ``.pkl`` or a state
            dict file (see :func:`load_backbone_weights`).
        name (str): Stream name. Defaults to ``'slowfast'``.
        clip_len (int): Seconds per row (2 QVHighlights, 1 Charades-STA).
        target_fps (int): Decoding rate (30).
        num_frames (int): Fast frames per clip (``DATA.NUM_FRAMES`` 32).
        sampling_rate (int): ``DATA.SAMPLING_RATE`` (2).
        alpha (int): Slow pathway takes ``num_frames // alpha`` frames.
        short_side (int): Resize target of the short side (224).
        crop_size (int): Centre crop (224).
        mean (float): Pixel mean after /255 (0.45).
        std (float): Pixel std (0.225).
        backend (str): Decoder, ``'pyav'`` (reference) or ``'decord'``.
        batch_size (int): Clips per forward pass.
    """

    def __init__(self,
                 backbone=dict(type='SlowFastR50'),
                 pretrained: Optional[str] = None,
                 name: str = 'slowfast',
                 clip_len: int = 2,
                 target_fps: int = 30,
                 num_frames: int = 32,
                 sampling_rate: int = 2,
                 alpha: int = 4,
                 short_side: int = 224,
                 crop_size: int = 224,
                 mean: float = 0.45,
                 std: float = 0.225,
                 backend: str = 'pyav',
                 batch_size: int = 4) -> None:
        super().__init__()
        self.backbone = build_part(MODELS, backbone)
        if pretrained is not None:
            load_backbone_weights(self.backbone, pretrained)
        self.pretrained = pretrained
        self.spec = StreamSpec(name, int(self.backbone.out_dim),
                               float(clip_len), float(target_fps))
        self.clip_len = clip_len
        self.target_fps = target_fps
        self.num_frames = num_frames
        self.sampling_rate = sampling_rate
        self.slow_index = torch.from_numpy(
            slow_frame_indices(num_frames, alpha))
        self.short_side = short_side
        self.crop_size = crop_size
        self.mean = mean
        self.std = std
        self.backend = backend
        self.batch_size = batch_size

    def clip_frame_indices(self, num_decoded: int,
                           info: VideoInfo) -> np.ndarray:
        """``(num_clips, num_frames)`` indices into the decoded frames."""
        clips = group_clip_indices(num_decoded, self.target_fps,
                                   self.clip_len, info.duration)
        fast = hero_fast_frame_indices(info.avg_fps, clips.shape[1],
                                       self.num_frames, self.sampling_rate,
                                       self.target_fps)
        return clips[:, fast]

    def preprocess(self, frames: np.ndarray) -> Sequence[torch.Tensor]:
        """uint8 ``(B, T, H, W, 3)`` -> ``[slow, fast]`` float32
        ``(B, 3, T', H, W)``."""
        device = next(self.backbone.parameters()).device
        fast = torch.from_numpy(frames).to(device).float()
        fast = fast.permute(0, 4, 1, 2, 3) / 255.
        fast = (fast - self.mean) / (self.std + 1e-8)
        slow = torch.index_select(fast, 2, self.slow_index.to(device))
        return [slow, fast]

    @torch.no_grad()
    def extract(self, path: str,
                info: Optional[VideoInfo] = None) -> np.ndarray:
        """float32 ``(ceil(duration / clip_len), dim)`` features."""
        info = info or probe_video(path)
        frames = decode_frames(path, self.target_fps, self.short_side,
                               self.crop_size, self.backend, info)
        index = self.clip_frame_indices(len(frames), info)
        self.backbone.eval()
        out = []
        for start in range(0, len(index), self.batch_size):
            batch = frames[index[start:start + self.batch_size]]
            out.append(self.backbone(self.preprocess(batch)).float().cpu())
        return torch.cat(out).numpy()
