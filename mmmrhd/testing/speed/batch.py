# Copyright (c) mmmrhd contributors. All rights reserved.
"""The benchmark batch of ``official_speed.md`` and the model built for it.

One fixed batch (fixed seed) of ``B`` samples: ``B - 6`` videos of ``L``
clips and 6 shorter ones, text lengths 8..32, 1/2/3 ground-truth windows of
up to 12 clips; features are random, L2-normalised per stream, with the two
temporal-endpoint (TEF) columns.
"""
from typing import Any, Dict, List

import torch
from mmengine.config import Config

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import MODELS
from mmmrhd.structures.spans import span_xx_to_cxw

#: official_speed.md "Batch": short videos at these positions, these lengths
#: (of 75 clips); text lengths in batch order.
SHORT_VIDEOS = {3: 60, 8: 41, 13: 52, 19: 33, 24: 70, 29: 66}
TEXT_LENGTHS = (32, 8, 21, 9, 16, 24, 23, 20, 17, 23, 19, 26, 14, 24, 12, 17,
                12, 32, 11, 27, 16, 25, 30, 27, 12, 17, 11, 31, 10, 29, 18, 23)
#: QVHighlights video streams (SlowFast + CLIP + TEF = 2818).
QVH_STREAMS = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2)
]
CLIP_LEN = 2.0


def video_streams(video_dim: int) -> List[dict]:
    """QVHighlights layout for 2818 columns, else ``video`` + 2 TEF."""
    if video_dim == 2818:
        return [dict(s) for s in QVH_STREAMS]
    if video_dim < 3:
        raise ValueError(f'--video-dim must be >= 3 (features + 2 TEF), '
                         f'got {video_dim}')
    return [dict(name='video', dim=video_dim - 2), dict(name='tef', dim=2)]


def make_batch(batch_size: int,
               num_clips: int,
               video_dim: int,
               text_dim: int,
               seed: int = 0) -> Dict[str, Any]:
    """The benchmark batch (``mrhd_collate`` output), deterministic.

    Args:
        batch_size (int): ``B``.
        num_clips (int): ``L``; the 6 short videos get
            ``round(L * n / 75)`` clips (official_speed.md lengths).
        video_dim (int): Video width including the 2 TEF columns.
        text_dim (int): Text width.
        seed (int): Seed of the batch's own generator.

    Returns:
        dict: ``inputs`` and ``data_samples`` of the data contract.
    """
    if batch_size < 1 or num_clips < 1 or text_dim < 1:
        raise ValueError('--batch-size, --num-clips and --text-dim must be '
                         f'>= 1, got {batch_size}, {num_clips}, {text_dim}')
    g = torch.Generator().manual_seed(seed)
    dims = [s['dim'] for s in video_streams(video_dim)][:-1]
    samples = []
    for i in range(batch_size):
        n = max(1, round(num_clips * SHORT_VIDEOS.get(i, 75) / 75))
        t = TEXT_LENGTHS[i % len(TEXT_LENGTHS)]
        feats = [
            torch.nn.functional.normalize(
                torch.randn(n, d, generator=g), dim=1) for d in dims
        ]
        start = torch.arange(n, dtype=torch.float32)[:, None] / n
        video = torch.cat(feats + [start, start + 1.0 / n], dim=1)
        text = torch.nn.functional.normalize(
            torch.randn(t, text_dim, generator=g), dim=1)
        windows, clips = [], set()
        for _ in range(i % 3 + 1):
            length = int(torch.randint(1, min(12, n) + 1, (1, ), generator=g))
            s = int(torch.randint(0, n - length + 1, (1, ), generator=g))
            windows.append([s * CLIP_LEN, (s + length) * CLIP_LEN])
            clips.update(range(s, s + length))
        clips = sorted(clips)
        scores = torch.randint(0, 5, (len(clips), 3), generator=g)
        all_labels = torch.zeros(n)
        all_labels[clips] = scores.sum(1).float()
        outside = [c for c in range(n) if c not in clips] or clips
        pos = [
            clips[int(j)]
            for j in torch.randint(len(clips), (2, ), generator=g)
        ]
        neg = [
            outside[int(j)]
            for j in torch.randint(len(outside), (2, ), generator=g)
        ]
        gt_windows = torch.tensor(windows)
        pos_mask = torch.zeros(n)  # TR-DETR `pos_mask`: relevant clips
        pos_mask[clips] = 1.0
        ann = dict(
            qid=i,
            query=f'benchmark query {i}',
            vid=f'video_{i}',
            duration=n * CLIP_LEN,
            relevant_windows=windows,
            relevant_clip_ids=clips,
            saliency_scores=scores.tolist())
        samples.append(
            dict(
                inputs=dict(video_feat=video, text_feat=text),
                data_samples=dict(
                    qid=i,
                    query=ann['query'],
                    vid=ann['vid'],
                    duration=n * CLIP_LEN,
                    clip_len=CLIP_LEN,
                    num_clips=n,
                    gt_windows=gt_windows,
                    gt_spans=span_xx_to_cxw(gt_windows / (n * CLIP_LEN)),
                    saliency_pos_labels=torch.tensor(pos),
                    saliency_neg_labels=torch.tensor(neg),
                    saliency_all_labels=all_labels,
                    pos_mask=pos_mask,
                    # VideoLights' hard-loss target (official dataset key)
                    saliency_pos_index=(all_labels > 0).long(),
                    ann=ann)))
    return mrhd_collate(samples)


def _to(batch: Dict[str, Any], device: torch.device) -> Dict[str, Any]:
    return dict(
        inputs={
            k: v.to(device)
            for k, v in batch['inputs'].items()
        },
        data_samples=batch['data_samples'])


def build_model(cfg: Config, video_dim: int, text_dim: int,
                device: torch.device) -> torch.nn.Module:
    """``MODELS.build(cfg.model)`` with the benchmark's input widths.

    The widths go into ``model.video_proj.streams`` /
    ``model.text_proj.streams`` (the input projections of the mmmrhd
    detectors).
    """
    model_cfg = cfg.model.copy()
    for key, streams in (('video_proj', video_streams(video_dim)),
                         ('text_proj', [dict(name='text', dim=text_dim)])):
        if key not in model_cfg:
            raise KeyError(f"benchmark_model: the config's model has no "
                           f"'{key}'; cannot set the input widths")
        model_cfg[key] = dict(model_cfg[key], streams=streams)
    return MODELS.build(model_cfg).to(device)
