# Copyright (c) mmmrhd contributors. All rights reserved.
"""Generic moment retrieval / highlight detection dataset (jsonl schema)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset
from mmengine.utils import is_abs

from mmmrhd.registry import DATASETS, TRANSFORMS, build_part
from mmmrhd.utils.errors import ConfigError, UserError
from .annotation import (check_clip_ids, check_id, check_number,
                         check_score_matrix, check_str, check_windows,
                         load_jsonl_records, qid_key, require_field)
from .data_errors import DataError, DataKeyError
from .feature_rules import missing_feature_files, required_num_clips
from .storage import join_path

__all__ = ['MRHDDataset']


@DATASETS.register_module()
class MRHDDataset(BaseDataset):
    """Queries on pre-extracted video features, in the QVHighlights schema.

    One jsonl line per query (see ``docs/en/user_guides/dataset_prepare.md``):

    * always: ``qid`` (int or str, unique: ``600`` and ``"600"`` are the
      same qid, since both name the feature file ``qid600.npz``),
      ``query`` (str), ``vid`` (str), ``duration`` (seconds, > 0);
    * moment retrieval (``with_mr``): ``relevant_windows`` ``[[start, end],
      ...]`` in seconds, inside ``[0, duration]`` up to ``window_tol``;
    * highlight detection (``with_hd``): ``relevant_clip_ids`` (unique clip
      indices, clip ``i`` = ``[i * clip_len, (i + 1) * clip_len)`` s) and
      ``saliency_scores`` (one list of per-annotator scores per clip, every
      score inside ``score_range``).

    Every record is checked when the dataset is built; an error (a
    :class:`~mmmrhd.utils.errors.DataError`) names the file, the line and
    the field. Ground truth is optional only with ``test_mode=True`` (e.g.
    the QVHighlights test release); where present it is always checked.
    Then every feature file the pipeline's loading transforms will read is
    checked to exist (one ``stat`` per file); the contents are checked as
    they are loaded, or all up front by ``tools/misc/check_dataset.py``.

    Each data info (the pipeline input) holds ``qid``, ``query``, ``vid``,
    ``duration`` (float seconds), ``clip_len``, ``ann`` (the record exactly as
    read), ``video_feat_dirs`` (list of directories, one per feature stream,
    concatenated in this order), ``text_feat_dirs`` (likewise) and, when
    ground truth exists, ``gt_windows`` (float32 ``(n, 2)`` seconds; MR) and
    ``saliency_clip_ids`` (int64 ``(K,)``) + ``saliency_agg`` (float64
    ``(K,)``, the per-clip score summed over annotators; HD), and
    ``min_num_clips``: the fewest rows a video feature file may have (see
    ``feat_len_slack``; 0 without ground truth).

    Args:
        ann_file (str): The jsonl annotation file (relative to ``data_root``
            unless absolute).
        data_root (str): Root of ``ann_file`` and ``data_prefix``.
        data_prefix (dict): ``video``: one directory or a list of
            directories (one per feature stream, e.g.
            ``['slowfast_features', 'clip_features']``); ``text``: one
            directory or a list. Relative to ``data_root`` unless absolute.
        clip_len (float): Seconds covered by one feature clip (QVHighlights
            2, official ``clip_length``).
        with_mr (bool): Read moment retrieval ground truth. Defaults to True.
        with_hd (bool): Read highlight detection ground truth. Defaults to
            True.
        window_tol (float): Seconds by which a window may exceed
            ``[0, duration]``. Defaults to 0.1.
        score_range (Sequence[float]): Inclusive bounds of one annotator's
            saliency score (QVHighlights: 0 = Very Bad .. 4 = Very Good).
        feat_len_slack (int, optional): Clips at the end of the annotated
            extent (latest window end / relevant clip) that a video feature
            file may lack; a shorter file is a
            :class:`~mmmrhd.utils.errors.DataError` when it is loaded.
            Defaults to 1 (the last, possibly partial clip; official
            QVHighlights semantics, see
            :mod:`mmmrhd.datasets.feature_rules`). None disables the check.
        check_feature_files (bool): Check at build time that every feature
            file exists (cheap). Defaults to True.
        backend_args (dict, optional): MMEngine storage backend arguments
            (:mod:`mmengine.fileio`, e.g. ``dict(backend='petrel')``) for
            ``ann_file`` and, unless a loading transform sets its own
            ``backend_args``, for the feature files too. None: by the path's
            prefix; plain paths are local files.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``, ``metainfo``, ...).
    """

    METAINFO: dict = dict(dataset_name='custom')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 clip_len: float = 2.0,
                 with_mr: bool = True,
                 with_hd: bool = True,
                 window_tol: float = 0.1,
                 score_range: Sequence[float] = (0, 4),
                 feat_len_slack: Optional[int] = 1,
                 check_feature_files: bool = True,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        if not with_mr and not with_hd:
            raise ConfigError(f'{type(self).__name__}: with_mr and with_hd '
                              'are both False; enable at least one task')
        if clip_len <= 0:
            raise ConfigError(f'clip_len must be positive, got {clip_len}')
        if len(score_range) != 2 or score_range[0] > score_range[1]:
            raise ConfigError('score_range must be (low, high) with low <= '
                              f'high, got {score_range!r}')
        if data_prefix is None:
            raise ConfigError(f'{type(self).__name__} needs data_prefix='
                              "dict(video=..., text=...)")
        if feat_len_slack is not None and feat_len_slack < 0:
            raise ConfigError('feat_len_slack must be >= 0 or None, got '
                              f'{feat_len_slack}')
        self.feat_len_slack = feat_len_slack
        self.check_feature_files = check_feature_files
        # Set by collect_problems(): record errors are listed, not raised.
        self._problems: Optional[List[str]] = None
        self.clip_len = float(clip_len)
        self.with_mr = with_mr
        self.with_hd = with_hd
        self.window_tol = float(window_tol)
        self.score_range = tuple(score_range)
        self.backend_args = copy.deepcopy(backend_args)
        # Build dict transforms with our registry, so that a pipeline works
        # without an active 'mmmrhd' default scope (MMEngine's Compose
        # otherwise looks them up in its root registry).
        kwargs['pipeline'] = [
            self._with_backend(build_part(TRANSFORMS, t))
            for t in kwargs.get('pipeline') or []
        ]
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)
        self._metainfo.update(
            clip_len=self.clip_len, with_mr=with_mr, with_hd=with_hd)

    def _with_backend(self, transform):
        """Give a loading transform the dataset's ``backend_args``.

        A transform with a ``backend_args`` attribute that is None
        (:class:`LoadVideoFeatures`, :class:`LoadTextFeatures`) reads its
        files with the dataset's, so one ``backend_args`` in the dataset
        config moves the whole dataset to another storage backend.
        """
        if (self.backend_args is not None
                and getattr(transform, 'backend_args', False) is None):
            transform.backend_args = copy.deepcopy(self.backend_args)
        return transform

    def _join_prefix(self) -> None:
        """Join ``data_root`` with ``ann_file`` and the feature directories.

        Unlike MMEngine's version, a prefix may be a list of directories;
        both ``video`` and ``text`` are turned into lists.
        """
        if self.ann_file and not is_abs(self.ann_file) and self.data_root:
            self.ann_file = join_path(self.data_root, self.ann_file,
                                      self.backend_args)
        for key in ('video', 'text'):
            if key not in self.data_prefix:
                raise KeyError(
                    f'{type(self).__name__}: data_prefix lacks {key!r} (got '
                    f'keys {sorted(self.data_prefix)})')
        joined: Dict[str, List[str]] = {}
        for key, prefix in self.data_prefix.items():
            dirs = [prefix] if isinstance(prefix, str) else list(prefix)
            if not dirs or not all(isinstance(d, str) for d in dirs):
                raise TypeError(f'data_prefix[{key!r}] must be a directory or '
                                f'a non-empty list of directories, got '
                                f'{prefix!r}')
            joined[key] = [
                d if is_abs(d) or not self.data_root else join_path(
                    self.data_root, d, self.backend_args)
                for d in dirs
            ]
        self.data_prefix = joined

    def load_data_list(self) -> List[dict]:
        """Read and check every record of ``ann_file``.

        Two records whose qids have the same string form (``600`` and
        ``"600"``) are duplicates: they name the same feature file.
        """
        data_list = []
        first_line: Dict[str, int] = {}
        for lineno, record in load_jsonl_records(
                self.ann_file, self.backend_args, self._problems):
            where = f'{self.ann_file}:{lineno}'
            try:
                info = self.parse_record(record, where)
                key = qid_key(info['qid'])
                if key in first_line:
                    raise DataError(
                        f'{where}: duplicate qid {info["qid"]!r} (first at '
                        f'line {first_line[key]}; qids are compared as '
                        f'strings, so 600 and "600" are the same)')
            except UserError as exc:
                if self._problems is None:
                    raise
                self._problems.append(str(exc))
                continue
            first_line[key] = lineno
            data_list.append(info)
        return data_list

    def collect_problems(self) -> Tuple[List[dict], List[str]]:
        """Check every record; list all problems instead of the first.

        For :func:`mmmrhd.datasets.checks.check_dataset` on a dataset built
        with ``lazy_init=True``; the dataset itself stays uninitialised.

        Returns:
            tuple[list[dict], list[str]]: The data infos of the valid
            records and one message per problem (a broken file gives one).
        """
        self._problems = []
        try:
            data_list = self.load_data_list()
        except UserError as exc:  # the file itself (missing, not UTF-8)
            data_list = []
            self._problems.append(str(exc))
        problems, self._problems = self._problems, None
        return data_list, problems

    def filter_data(self) -> List[dict]:
        """Keep every record; check that every feature file exists.

        Raises:
            DataError: Naming the missing files (the first few) and their
                count.
        """
        data_list = super().filter_data()
        if self.check_feature_files:
            missing = missing_feature_files(self.pipeline.transforms,
                                            data_list)
            if missing:
                shown = '; '.join(
                    f'{path} (qid {info["qid"]!r}, vid {info["vid"]!r})'
                    for path, info in missing[:3])
                more = (f' and {len(missing) - 3} more'
                        if len(missing) > 3 else '')
                raise DataError(
                    f'{len(missing)} feature file(s) needed by '
                    f'{self.ann_file} do not exist: {shown}{more} (list all '
                    'problems with tools/misc/check_dataset.py CONFIG)')
        return data_list

    def parse_record(self, record: dict, where: str) -> dict:
        """Check one record and turn it into a data info.

        Args:
            record (dict): The record as read from the jsonl line.
            where (str): ``path:line`` for error messages.

        Returns:
            dict: The data info (see the class docstring).
        """
        qid = check_id(require_field(record, 'qid', where), 'qid', where)
        where = f'{where} (qid={qid!r})'
        query = check_str(require_field(record, 'query', where), 'query',
                          where)
        vid = check_str(require_field(record, 'vid', where), 'vid', where)
        duration = self.duration_seconds(
            check_number(
                require_field(record, 'duration', where),
                'duration',
                where,
                positive=True))
        info = dict(
            qid=qid,
            query=query,
            vid=vid,
            duration=duration,
            clip_len=self.clip_len,
            ann=record,
            video_feat_dirs=list(self.data_prefix['video']),
            text_feat_dirs=list(self.data_prefix['text']))
        if self.with_mr:
            info.update(self.parse_mr_gt(record, info, where))
        if self.with_hd:
            info.update(self.parse_hd_gt(record, info, where))
        info['min_num_clips'] = (0 if self.feat_len_slack is None else
                                 required_num_clips(info,
                                                    self.feat_len_slack))
        return info

    def duration_seconds(self, duration: float) -> float:
        """Convert the record's ``duration`` to seconds (identity here)."""
        return duration

    def _absent(self, fields: str, task: str, where: str) -> dict:
        """No ground truth: fine in test mode, an error otherwise."""
        if self.test_mode:
            return {}
        raise DataKeyError(f'{where}: missing field {fields} needed by '
                           f'{task}=True (use test_mode=True for a split '
                           f'without ground truth, or {task}=False)')

    def parse_mr_gt(self, record: dict, info: dict, where: str) -> dict:
        """Moment retrieval ground truth: ``gt_windows`` (n, 2) seconds."""
        windows = record.get('relevant_windows')
        if windows is None:
            return self._absent("'relevant_windows'", 'with_mr', where)
        return dict(
            gt_windows=check_windows(windows, 'relevant_windows', where,
                                     info['duration'], self.window_tol))

    def parse_hd_gt(self, record: dict, info: dict, where: str) -> dict:
        """Highlight ground truth from ``relevant_clip_ids`` and scores.

        Returns:
            dict: ``saliency_clip_ids`` int64 (K,) and ``saliency_agg``
            float64 (K,) = the scores summed over annotators (official
            ``agg_scores = np.sum(scores, 1)``, TaskWeave
            ``start_end_dataset.py`` L191-192).
        """
        clip_ids = record.get('relevant_clip_ids')
        scores = record.get('saliency_scores')
        if clip_ids is None and scores is None:
            return self._absent("'relevant_clip_ids'/'saliency_scores'",
                                'with_hd', where)
        for field, value in (('relevant_clip_ids', clip_ids),
                             ('saliency_scores', scores)):
            if value is None:
                raise DataKeyError(f'{where}: missing field {field!r} (the '
                                   'other highlight field is present)')
        ids = check_clip_ids(clip_ids, 'relevant_clip_ids', where,
                             info['duration'], self.clip_len)
        matrix = check_score_matrix(scores, 'saliency_scores', where,
                                    len(ids), self.score_range)
        return dict(saliency_clip_ids=ids, saliency_agg=matrix.sum(1))
