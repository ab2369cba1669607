# Copyright (c) mmmrhd contributors. All rights reserved.
"""Rules shared by the datasets, the loading transforms and the data check.

* **Feature length vs annotation.** A feature clip ``i`` covers
  ``[i * clip_len, (i + 1) * clip_len)`` seconds. The annotation of a query
  reaches ``extent`` = the latest window end and the end of the last
  relevant clip; covering it takes ``ceil(extent / clip_len)`` clips. A
  feature file may lack at most ``slack`` of them at the end (default 1,
  the last, possibly partial clip): the official QVHighlights pipeline
  tolerates exactly one relevant clip id equal to the feature length
  (``saliency_all_labels`` grown by one slot, TaskWeave
  ``start_end_dataset.py`` L180-224), and the released SlowFast / CLIP
  streams of one video differ by up to one clip
  (``../shared/research/raw_video.md`` §1). The length compared is the
  file's row count *before* ``max_len`` truncation, which is a config
  choice (official ``max_v_l``), not a data error.
* **Feature files of a sample** come from the loading transforms of the
  dataset's pipeline: every transform with a ``feature_files(info)``
  method (:class:`LoadVideoFeatures`, :class:`LoadTextFeatures`) lists the
  files it will read for a data info.
"""
import math
import os.path as osp
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .storage import file_exists, is_local

__all__ = [
    'FeatureFile', 'required_num_clips', 'annotated_extent',
    'too_short_message', 'pipeline_feature_files', 'missing_feature_files'
]

#: Rounding guard when dividing window ends (float seconds) by clip_len.
_EPS = 1e-6


class FeatureFile(NamedTuple):
    """One feature file that a loading transform reads for a sample."""

    #: The stream the file belongs to: its directory joined with the
    #: file-name template (e.g. ``'data/qvh/slowfast_features/{vid}.npz'``).
    #: All files of one group must have the same width.
    group: str
    #: The file.
    path: str
    #: ``'video'`` or ``'text'``.
    kind: str
    #: Array name inside an ``.npz`` archive (None for ``.npy``).
    key: Optional[str]
    #: Rows the transform keeps (None = all).
    max_len: Optional[int]
    #: MMEngine storage backend arguments the transform reads it with.
    backend_args: Optional[dict] = None


def annotated_extent(info: dict) -> float:
    """Seconds up to which a data info is annotated (0 without GT).

    The latest end of ``gt_windows`` and of the relevant clips
    ``saliency_clip_ids`` (clip ``i`` ends at ``(i + 1) * clip_len``).
    """
    extent = 0.0
    windows = info.get('gt_windows')
    if windows is not None and len(windows):
        extent = max(extent, float(np.max(windows[:, 1])))
    ids = info.get('saliency_clip_ids')
    if ids is not None and len(ids):
        extent = max(extent, (int(np.max(ids)) + 1) * info['clip_len'])
    return extent


def required_num_clips(info: dict, slack: int) -> int:
    """The fewest feature clips a data info's annotation allows.

    Args:
        info (dict): A data info with ``clip_len`` and optionally
            ``gt_windows`` / ``saliency_clip_ids``.
        slack (int): Clips at the end of the annotated extent the features
            may lack (see the module docstring).

    Returns:
        int: ``max(0, ceil(extent / clip_len) - slack)``.
    """
    extent = annotated_extent(info)
    if extent <= 0:
        return 0
    return max(0, math.ceil(extent / info['clip_len'] - _EPS) - slack)


def too_short_message(path: str, num_rows: int, info: dict,
                      what: str = 'video feature') -> str:
    """The one-line error for a feature file shorter than its annotation."""
    clip_len = info['clip_len']
    return (f'{what} file {path} has {num_rows} clips '
            f'({num_rows * clip_len:g} s at clip_len {clip_len:g}), but qid '
            f'{info["qid"]!r} (vid {info["vid"]!r}) is annotated up to '
            f'{annotated_extent(info):g} s, which needs at least '
            f'{info["min_num_clips"]} clips; the file is truncated, belongs '
            'to another video or clip_len is wrong')


def pipeline_feature_files(transforms: Sequence,
                           info: dict) -> List[FeatureFile]:
    """The feature files the loading transforms read for ``info``."""
    files: List[FeatureFile] = []
    for transform in transforms:
        lister = getattr(transform, 'feature_files', None)
        if callable(lister):
            files.extend(lister(info))
    return files


def missing_feature_files(transforms: Sequence, data_list: Iterable[dict]
                          ) -> List[Tuple[str, dict]]:
    """Feature files that do not exist, each with the first info needing it.

    One ``os.path.isfile`` per distinct local file (the cheap check every
    dataset runs when it is built); files on another storage backend are
    asked through it (``isfile`` / ``exists``; a backend that implements
    neither is not asked: its files are checked when read).
    """
    seen = set()
    missing = []
    for info in data_list:
        for file in pipeline_feature_files(transforms, info):
            if file.path in seen:
                continue
            seen.add(file.path)
            if is_local(file.path, file.backend_args):
                found = osp.isfile(file.path)
            else:
                found = file_exists(file.path, file.backend_args) is not False
            if not found:
                missing.append((file.path, info))
    return missing
