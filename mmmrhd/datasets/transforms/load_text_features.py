# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load pre-extracted token features of a query."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmmrhd.registry import TRANSFORMS
from ..feature_rules import FeatureFile
from .feature_io import (WidthRecord, check_feature_array, check_template,
                         concat_streams, l2_normalize, read_feature_array)

__all__ = ['LoadTextFeatures']


@TRANSFORMS.register_module()
class LoadTextFeatures(BaseTransform):
    """Load the query's token features from each text directory.

    As the official ``_get_query_feat_by_qid`` (TaskWeave
    ``start_end_dataset.py`` L270-284): load ``file_template`` (formatted
    with ``qid`` and ``vid``), cast to float32, keep the first ``max_len``
    tokens and L2-normalise each token. With several directories in
    ``results['text_feat_dirs']`` (e.g. VideoLights' CLIP + BLIP text), each
    is normalised separately, all are cut to the shortest token count and
    concatenated along the channels (VideoLights ``start_end_dataset.py``
    L351-376). A 1-D array (e.g. ``pooler_output``) is one token.

    Every file is checked as it is read (a
    :class:`~mmmrhd.utils.errors.DataError` naming the file): a valid
    ``.npz`` / ``.npy`` file with a numeric array, finite values in the
    tokens kept, and the same width as the first file read from the same
    directory.

    Required keys: ``qid``, ``vid``, ``text_feat_dirs``.
    Added keys: ``text_feat`` (float32 ``(T, D)``).

    Args:
        file_template (str): Defaults to ``'qid{qid}.npz'`` (official
            QVHighlights / Charades-STA); TVSum uses ``'{qid}.npz'``.
        key (str, optional): Array inside ``.npz`` files. Defaults to
            ``'last_hidden_state'`` (official ``q_feat_type``); TVSum uses
            ``'token'``. None for ``.npy`` files.
        max_len (int, optional): Keep the first ``max_len`` tokens (official
            ``max_q_l`` = 32). None keeps all (official TVSum path).
        normalize (bool): L2-normalise each token (official unless
            ``--no_norm_tfeat``; the official TVSum path does not). Defaults
            to True.
        eps (float): Normalisation epsilon (official 1e-5).
        length_tolerance (int, optional): Largest allowed token-count gap
            between several text streams; None = any (official VideoLights
            behaviour, tokenizers differ). Defaults to None.
        backend_args (dict, optional): MMEngine storage backend arguments
            of the feature files; as :class:`LoadVideoFeatures`.
    """

    def __init__(self,
                 file_template: str = 'qid{qid}.npz',
                 key: Optional[str] = 'last_hidden_state',
                 max_len: Optional[int] = 32,
                 normalize: bool = True,
                 eps: float = 1e-5,
                 length_tolerance: Optional[int] = None,
                 backend_args: Optional[dict] = None) -> None:
        check_template(file_template, key)
        if max_len is not None and max_len < 1:
            raise ValueError(f'max_len must be >= 1 or None, got {max_len}')
        self.file_template = file_template
        self.key = key
        self.max_len = max_len
        self.normalize = normalize
        self.eps = eps
        self.length_tolerance = length_tolerance
        self.backend_args = backend_args
        self._widths = WidthRecord()

    def feature_files(self, results: Dict) -> List[FeatureFile]:
        """The files read for a data info, one per text directory."""
        name = self.file_template.format(
            qid=results['qid'], vid=results['vid'])
        return [
            FeatureFile(
                osp.join(d, self.file_template), osp.join(d, name), 'text',
                self.key, self.max_len, self.backend_args)
            for d in results['text_feat_dirs']
        ]

    def transform(self, results: Dict) -> Dict:
        """Add ``text_feat`` to ``results``."""
        files = self.feature_files(results)
        feats = []
        for file in files:
            array = read_feature_array(file.path, self.key, 'text feature',
                                       file.backend_args)
            feat = check_feature_array(array, self.max_len,
                                       f'text feature file {file.path}')
            self._widths.check(file.group, file.path, feat.shape[1],
                               'text feature')
            feats.append(feat)
        results['text_feat'] = self.merge_streams(feats,
                                                  [f.path for f in files])
        return results

    def merge_streams(self, feats: Sequence[np.ndarray],
                      names: Sequence[str]) -> np.ndarray:
        """L2-normalise each text stream, cut to the shortest, concatenate.

        Public so that an inferencer can turn token features held in memory
        into model input with the very code of this loader.

        Args:
            feats (Sequence[np.ndarray]): float32 ``(T_i, D_i)`` arrays, at
                most ``max_len`` tokens each.
            names (Sequence[str]): One name per stream, for messages.

        Returns:
            np.ndarray: ``(min T_i, sum D_i)``.
        """
        streams = [
            l2_normalize(feat, self.eps) if self.normalize else feat
            for feat in feats
        ]
        return concat_streams(streams, names, self.length_tolerance,
                              'text feature')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(file_template='
                f'{self.file_template!r}, key={self.key!r}, '
                f'max_len={self.max_len}, normalize={self.normalize}, '
                f'eps={self.eps}, length_tolerance={self.length_tolerance}, '
                f'backend_args={self.backend_args})')
