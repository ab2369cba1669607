# Copyright (c) mmmrhd contributors. All rights reserved.
"""QVHighlights (Lei et al., NeurIPS 2021): joint MR + HD."""
from typing import Optional

from mmmrhd.registry import DATASETS
from .mrhd_dataset import MRHDDataset

__all__ = ['QVHighlightsDataset']


@DATASETS.register_module()
class QVHighlightsDataset(MRHDDataset):
    """QVHighlights queries with moment and highlight ground truth.

    The official settings are the defaults: 2-s clips (``clip_length`` 2),
    saliency scores 0..4 from 3 annotators, and the feature layout of the
    moment_detr features tarball (SlowFast then CLIP video streams, CLIP
    text tokens). The test release (``highlight_test_release.jsonl``) has no
    ground truth and needs ``test_mode=True``.

    Args:
        ann_file (str): e.g. ``'annotations/highlight_train_release.jsonl'``.
        data_root (str): e.g. ``'data/qvhighlights'``.
        data_prefix (dict, optional): Defaults to
            ``dict(video=['features/slowfast_features',
            'features/clip_features'], text='features/clip_text_features')``.
        clip_len (float): Defaults to 2.0 (official ``clip_length``).
        **kwargs: See :class:`MRHDDataset`.
    """

    METAINFO: dict = dict(dataset_name='QVHighlights')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 clip_len: float = 2.0,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(
                video=['features/slowfast_features', 'features/clip_features'],
                text='features/clip_text_features')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            clip_len=clip_len,
            **kwargs)
