# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load pre-extracted clip features of a video from one or more streams."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS
from ..data_errors import DataError
from ..feature_rules import FeatureFile, too_short_message
from .feature_io import (WidthRecord, check_feature_array, check_template,
                         concat_streams, l2_normalize, read_feature_array)

__all__ = ['LoadVideoFeatures']


@TRANSFORMS.register_module()
class LoadVideoFeatures(BaseTransform):
    """Load, normalise and concatenate the video feature streams.

    One stream per directory of ``results['video_feat_dirs']`` (set by the
    dataset from ``data_prefix['video']``), in that order. Per stream, as the
    official ``_get_video_feat_by_vid`` (TaskWeave ``start_end_dataset.py``
    L298-330):

    1. every file of ``file_template`` is loaded, truncated to ``max_len``
       clips and cast to float32; several files (e.g. TVSum I3D
       ``<vid>_rgb.npy`` + ``<vid>_opt.npy``) are concatenated along the
       channels into one stream;
    2. the stream is L2-normalised per clip, ``x / (||x|| + eps)``;

    then all streams are cut to the shortest and concatenated. The official
    code cuts silently; here streams (or files of one stream) whose lengths
    differ by more than ``length_tolerance`` clips raise an error naming the
    files.

    Every file is also checked as it is read, at no extra cost (each error
    is a :class:`~mmmrhd.utils.errors.DataError` naming the file): a valid
    ``.npz`` / ``.npy`` file with a numeric ``(L, D)`` array, finite values
    in the rows kept, the same width ``D`` as the first file read from the
    same stream, and, when the data info has ``min_num_clips`` (set by
    :class:`MRHDDataset` from the annotation, see
    :mod:`mmmrhd.datasets.feature_rules`), at least that many rows before
    the ``max_len`` cut.

    Required keys: ``vid``, ``qid``, ``video_feat_dirs``; optional
    ``min_num_clips``.
    Added keys: ``video_feat`` (float32 ``(L, sum D)``), ``num_clips`` (L).

    Args:
        file_template (str | Sequence[str]): File name(s) inside each
            directory, formatted with ``vid`` and ``qid``. Defaults to
            ``'{vid}.npz'`` (official QVHighlights layout).
        key (str, optional): Array name inside ``.npz`` files (official
            ``'features'``); None for ``.npy`` files.
        max_len (int, optional): Keep the first ``max_len`` clips (official
            ``max_v_l``: 75 QVHighlights, 1000 TVSum). None keeps all.
        normalize (bool): L2-normalise each stream (official unless
            ``--no_norm_vfeat``). Defaults to True.
        eps (float): Normalisation epsilon (official 1e-5).
        length_tolerance (int, optional): Largest allowed length gap in
            clips between streams; None = any (official). Defaults to 2
            (QVHighlights has SlowFast/CLIP gaps of 1 clip).
        backend_args (dict, optional): MMEngine storage backend arguments
            of the feature files (:mod:`mmengine.fileio`). None: the
            dataset's ``backend_args`` when the transform is in an
            :class:`MRHDDataset` pipeline, else by the path's prefix (plain
            paths are local files, read directly).
    """

    def __init__(self,
                 file_template: Union[str, Sequence[str]] = '{vid}.npz',
                 key: Optional[str] = 'features',
                 max_len: Optional[int] = 75,
                 normalize: bool = True,
                 eps: float = 1e-5,
                 length_tolerance: Optional[int] = 2,
                 backend_args: Optional[dict] = None) -> None:
        self.file_templates: List[str] = ([file_template] if isinstance(
            file_template, str) else list(file_template))
        if not self.file_templates:
            raise ValueError('file_template must name at least one file')
        for template in self.file_templates:
            check_template(template, key)
        if max_len is not None and max_len < 1:
            raise ValueError(f'max_len must be >= 1 or None, got {max_len}')
        if length_tolerance is not None and length_tolerance < 0:
            raise ValueError('length_tolerance must be >= 0 or None, got '
                             f'{length_tolerance}')
        self.key = key
        self.max_len = max_len
        self.normalize = normalize
        self.eps = eps
        self.length_tolerance = length_tolerance
        self.backend_args = backend_args
        self._widths = WidthRecord()

    def feature_files(self, results: Dict) -> List[FeatureFile]:
        """The files read for a data info, stream by stream, in order."""
        return [
            FeatureFile(
                osp.join(d, t), osp.join(
                    d, t.format(vid=results['vid'], qid=results['qid'])),
                'video', self.key, self.max_len, self.backend_args)
            for d in results['video_feat_dirs'] for t in self.file_templates
        ]

    def _load_file(self, file: FeatureFile, results: Dict) -> np.ndarray:
        array = read_feature_array(file.path, self.key, 'video feature',
                                   file.backend_args)
        if array.shape[0] < results.get('min_num_clips', 0):
            raise DataError(too_short_message(file.path, array.shape[0],
                                              results))
        array = check_feature_array(array, self.max_len,
                                    f'video feature file {file.path}')
        self._widths.check(file.group, file.path, array.shape[1],
                           'video feature')
        return array

    def merge_stream(self, parts: Sequence[np.ndarray],
                     names: Sequence[str]) -> np.ndarray:
        """Step 2 for one stream: join its file parts, L2-normalise.

        Public so that an inferencer can turn features held in memory into
        model input with the very code of this loader.

        Args:
            parts (Sequence[np.ndarray]): float32 ``(L, D_i)`` arrays (one
                per file of the stream).
            names (Sequence[str]): One name per part, for messages.

        Returns:
            np.ndarray: ``(L, sum D_i)``.
        """
        stream = concat_streams(parts, names, self.length_tolerance,
                                'video feature')
        return l2_normalize(stream, self.eps) if self.normalize else stream

    def merge_streams(self, streams: Sequence[np.ndarray],
                      names: Sequence[str]) -> np.ndarray:
        """Cut the normalised streams to the shortest and concatenate."""
        return concat_streams(streams, names, self.length_tolerance,
                              'video feature')

    def transform(self, results: Dict) -> Dict:
        """Add ``video_feat`` and ``num_clips`` to ``results``."""
        files = self.feature_files(results)
        per_dir = len(self.file_templates)
        streams = []
        for i in range(0, len(files), per_dir):
            stream_files = files[i:i + per_dir]
            parts = [self._load_file(f, results) for f in stream_files]
            streams.append(
                self.merge_stream(parts, [f.path for f in stream_files]))
        video_feat = self.merge_streams(streams,
                                        [f.path for f in files[::per_dir]])
        results['video_feat'] = video_feat
        results['num_clips'] = int(video_feat.shape[0])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(file_template={self.file_templates}, '
                f'key={self.key!r}, max_len={self.max_len}, '
                f'normalize={self.normalize}, eps={self.eps}, '
                f'length_tolerance={self.length_tolerance}, '
                f'backend_args={self.backend_args})')
