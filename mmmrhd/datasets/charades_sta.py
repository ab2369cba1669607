# Copyright (c) mmmrhd contributors. All rights reserved.
"""Charades-STA (Gao et al., ICCV 2017) in the UniVTG/CG-DETR jsonl format."""
from typing import Optional

from mmmrhd.registry import DATASETS
from .mrhd_dataset import MRHDDataset

__all__ = ['CharadesSTADataset']


@DATASETS.register_module()
class CharadesSTADataset(MRHDDataset):
    """Charades-STA queries: one ground-truth window each, no saliency.

    The records (``charades_sta_{train,test}_tvr_format.jsonl``) carry
    ``qid``, ``query``, ``vid``, ``duration`` (float seconds) and
    ``relevant_windows``; the task is moment retrieval only, so ``with_hd``
    defaults to False. Joint MR/HD models need saliency targets for their
    losses: put :class:`GenerateWindowSaliencyLabels` in the training
    pipeline, which derives binary pseudo labels from the window as
    VideoLights and CG-DETR do (``get_saliency_labels_sub_as_query``).

    Args:
        ann_file (str): e.g.
            ``'annotations/charades_sta_train_tvr_format.jsonl'``.
        data_root (str): e.g. ``'data/charades_sta'``.
        data_prefix (dict, optional): Defaults to
            ``dict(video=['features/slowfast_features',
            'features/clip_features'], text='features/clip_text_features')``
            (the SlowFast + CLIP features used by CG-DETR and VideoLights).
        clip_len (float): Defaults to 1.0: these features have one clip per
            second (VideoLights / CG-DETR scripts ``--clip_length 1``).
        with_hd (bool): Defaults to False (no highlight annotation).
        **kwargs: See :class:`MRHDDataset`.
    """

    METAINFO: dict = dict(dataset_name='Charades-STA')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 clip_len: float = 1.0,
                 with_hd: bool = False,
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
            with_hd=with_hd,
            **kwargs)
