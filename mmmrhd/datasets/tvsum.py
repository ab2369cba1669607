# Copyright (c) mmmrhd contributors. All rights reserved.
"""TVSum (Song et al., CVPR 2015), QD-DETR/UMT split: query-based HD."""
from typing import List, Optional, Sequence, Union

import numpy as np

from mmmrhd.registry import DATASETS
from .annotation import check_score_matrix, check_str, require_field
from .data_errors import DataError
from .mrhd_dataset import MRHDDataset

__all__ = ['TVSumDataset']

#: The 10 TVSum categories (official ``dset_domain`` choices, TaskWeave
#: ``start_end_dataset.py`` L65).
TVSUM_DOMAINS = ('BK', 'BT', 'DS', 'FM', 'GA', 'MS', 'PK', 'PR', 'VT', 'VU')

#: Saliency labels are rescaled to the QVHighlights range 0..12 (3
#: annotators x 0..4): official ``agg / 80 * 12`` with 80 = 20 annotators x
#: (5 - 1) (TaskWeave ``start_end_dataset.py`` L228-229).
QVH_MAX_AGG = 12


@DATASETS.register_module()
class TVSumDataset(MRHDDataset):
    """TVSum videos, one query (the video title) each, per-domain subsets.

    Records (``tvsum_{train,val}.jsonl``) carry ``qid`` (== ``vid``, the
    YouTube id), ``query`` (the title), ``duration`` (the NUMBER OF CLIPS,
    not seconds), ``domain`` and ``label``: ``duration`` rows of 20
    annotator scores 1..5, one row per 2-s clip. ``relevant_windows`` /
    ``relevant_clip_ids`` are null: highlight detection only.

    Highlight ground truth follows the official
    ``get_saliency_labels_all_tvsum``: every clip is labelled, with
    ``agg = sum over annotators of (score - 1)`` and the target
    ``agg / 80 * 12``. The data info's ``duration`` is in seconds
    (``clips * clip_len``); ``ann`` keeps the raw record for the metric.

    Args:
        ann_file (str): e.g. ``'annotations/tvsum_train.jsonl'``.
        data_root (str): e.g. ``'data/tvsum'``.
        domain (str | Sequence[str], optional): Keep only these domains
            (the official protocol trains and evaluates one model per
            domain). None keeps all 10.
        data_prefix (dict, optional): Defaults to
            ``dict(video='features/video_features',
            text='features/query_features')`` (UMT's I3D features
            ``<vid>_rgb.npy`` / ``<vid>_opt.npy`` and CLIP ``<qid>.npz``).
        clip_len (float): Defaults to 2.0 (TVSum shots of 2 s).
        with_mr (bool): Defaults to False (TVSum has no windows).
        score_range (Sequence[float]): Defaults to (1, 5).
        feat_len_slack (int, optional): Defaults to None: no feature length
            check against the labels, since the official TVSum path drops
            label rows beyond the features (``overflow='drop'`` of
            :class:`GenerateSaliencyLabels`) and the gap in the released
            features is not known here.
        num_annotators (int): Scores per clip. Defaults to 20.
        **kwargs: See :class:`MRHDDataset`.
    """

    METAINFO: dict = dict(dataset_name='TVSum')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 domain: Optional[Union[str, Sequence[str]]] = None,
                 data_prefix: Optional[dict] = None,
                 clip_len: float = 2.0,
                 with_mr: bool = False,
                 score_range: Sequence[float] = (1, 5),
                 feat_len_slack: Optional[int] = None,
                 num_annotators: int = 20,
                 **kwargs) -> None:
        domains = None if domain is None else (
            [domain] if isinstance(domain, str) else list(domain))
        if domains is not None:
            unknown = [d for d in domains if d not in TVSUM_DOMAINS]
            if unknown or not domains:
                raise ValueError(
                    f'unknown TVSum domain(s) {unknown or domain!r}; choose '
                    f'from {list(TVSUM_DOMAINS)}')
        self.domains: Optional[List[str]] = domains
        self.num_annotators = num_annotators
        if data_prefix is None:
            data_prefix = dict(
                video='features/video_features',
                text='features/query_features')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            clip_len=clip_len,
            with_mr=with_mr,
            score_range=score_range,
            feat_len_slack=feat_len_slack,
            **kwargs)
        self._metainfo.update(domain=domains)

    def load_data_list(self) -> List[dict]:
        """Check every record, then keep the selected domains."""
        data_list = super().load_data_list()
        if self.domains is None:
            return data_list
        kept = [d for d in data_list if d['ann']['domain'] in self.domains]
        if not kept:
            raise DataError(f'{self.ann_file}: no record of domain(s) '
                            f'{self.domains}')
        return kept

    def duration_seconds(self, duration: float) -> float:
        """TVSum's ``duration`` counts clips: convert to seconds."""
        return duration * self.clip_len

    def parse_record(self, record: dict, where: str) -> dict:
        """Check the record, including its ``domain``."""
        info = super().parse_record(record, where)
        where = f'{where} (qid={info["qid"]!r})'
        domain = check_str(
            require_field(record, 'domain', where), 'domain', where)
        if domain not in TVSUM_DOMAINS:
            raise DataError(f'{where}: unknown domain {domain!r}; expected '
                            f'one of {list(TVSUM_DOMAINS)}')
        return info

    def parse_hd_gt(self, record: dict, info: dict, where: str) -> dict:
        """Per-clip targets from the ``label`` matrix (all clips labelled).

        Returns:
            dict: ``saliency_clip_ids`` = ``arange(num_clips)`` and
            ``saliency_agg`` = ``sum(label - 1, -1) / 80 * 12`` (float64).
        """
        label = record.get('label')
        if label is None:
            return self._absent("'label'", 'with_hd', where)
        num_clips = round(info['duration'] / self.clip_len)
        if info['duration'] != num_clips * self.clip_len:
            raise DataError(f'{where}: TVSum duration must be an integer '
                            f'number of clips, got {record["duration"]!r}')
        matrix = check_score_matrix(label, 'label', where, num_clips,
                                    self.score_range)
        if matrix.shape[1] != self.num_annotators:
            raise DataError(f'{where}: label rows have {matrix.shape[1]} '
                            f'scores, expected {self.num_annotators} '
                            'annotators')
        low, high = self.score_range
        agg = np.sum(matrix - low, axis=-1)
        max_agg = self.num_annotators * (high - low)  # official: 80
        return dict(
            saliency_clip_ids=np.arange(num_clips, dtype=np.int64),
            saliency_agg=agg / max_agg * QVH_MAX_AGG)
