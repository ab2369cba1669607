# Copyright (c) mmmrhd contributors. All rights reserved.
"""A small, randomly initialised feature-extractor config for tests and
pipeline checks (same code path as the real recipe, tiny widths)."""
from typing import List

__all__ = ['tiny_extractor_cfg', 'toy_tokenizer']

TOY_VOCAB = 100
TOY_SOT, TOY_EOT = TOY_VOCAB - 2, TOY_VOCAB - 1


def toy_tokenizer(text: str) -> List[int]:
    """Stand-in for the BPE tokenizer: one id in [1, 96) per character."""
    return [ord(c) % 95 + 1 for c in text.lower()]


def tiny_extractor_cfg(size: int = 64, clip_len: float = 2,
                       backend: str = 'pyav') -> dict:
    """Config of a tiny SlowFast + CLIP extractor with a toy tokenizer.

    Streams: ``slowfast`` (width 288 = 256 slow + 32 fast) and ``clip``
    (width 16); text features of width 32. Frames are resized/cropped to
    ``size`` instead of 224. Weights are random: a pipeline check only.
    """
    return dict(
        type='VideoFeatureExtractor',
        streams=[
            dict(
                type='SlowFastFeatureStream',
                backbone=dict(
                    type='SlowFastR50', width_per_group=8,
                    num_blocks=(1, 1, 1, 1)),
                clip_len=clip_len,
                short_side=size,
                crop_size=size,
                backend=backend),
            dict(
                type='CLIPFeatureStream',
                backbone=dict(
                    type='CLIPVisionAdapter',
                    arch=None,
                    vision_cfg=dict(
                        image_size=size, patch_size=16, width=32, layers=2,
                        heads=2, output_dim=16)),
                clip_len=clip_len,
                short_side=size,
                crop_size=size,
                backend=backend)
        ],
        text_encoder=dict(
            type='CLIPTextAdapter',
            arch=None,
            text_cfg=dict(
                context_length=40, vocab_size=TOY_VOCAB, width=32, heads=2,
                layers=2, embed_dim=16),
            tokenizer='mmmrhd.testing.extractor.toy_tokenizer',
            sot_token=TOY_SOT,
            eot_token=TOY_EOT))
