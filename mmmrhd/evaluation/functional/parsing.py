# Copyright (c) mmmrhd contributors. All rights reserved.
"""Validate QVHighlights-format ground truth and submissions into compact
flat arrays.

Both entry points share the per-record checks: :func:`parse_submission`
takes records already in memory (the MMEngine metrics),
:func:`parse_submission_files` streams two jsonl files line by line, so a
submission of any size is parsed in memory proportional to its numbers (a
few bytes per window / saliency score), not to its Python objects. Errors
name the file, the line (or record) and the field.
"""
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterable, List, Optional, Sequence

import numpy as np

from .highlight import HL_CLIP_LEN
from .moment_retrieval import MAX_PRED_WINDOWS
from .ragged import ragged_take
from .records import (FlatBuilder, SaliencyBuilder, gt_saliency, plain_rows,
                      plain_scores)
from .submission import (SubmissionError, SubmissionWarning, check_same_qids,
                         check_unique, describe, describe_line, iter_jsonl,
                         record_qids, require_key)

#: Keys deciding which metrics are computed (MR, HL).
MR_KEY, HL_KEY = 'pred_relevant_windows', 'pred_saliency_scores'


@dataclass
class ParsedSubmission:
    """A validated submission aligned with its ground truth.

    Per-query lists are flat arrays plus counts (query ``q`` owns the next
    ``counts[q]`` rows), all in submission order.
    """
    qids: List[Hashable]
    has_mr: bool
    has_hl: bool
    #: ``(N, 3)`` ``[start, end, score]``: the first
    #: :data:`MAX_PRED_WINDOWS` windows of each query in file order.
    pred_windows_flat: Optional[np.ndarray] = None
    pred_window_counts: Optional[np.ndarray] = None
    #: ``(M, 2)`` GT windows.
    gt_windows_flat: Optional[np.ndarray] = None
    gt_window_counts: Optional[np.ndarray] = None
    #: ``(S,)`` predicted saliency (full lists).
    pred_scores_flat: Optional[np.ndarray] = None
    pred_score_counts: Optional[np.ndarray] = None
    #: ``(C, 3)`` int8 annotator scores clipped down to 0/2/3/4, one row per
    #: GT clip (``int(duration / clip_len)`` per query).
    gt_scores_flat: Optional[np.ndarray] = None
    gt_clip_counts: Optional[np.ndarray] = None

    @staticmethod
    def _split(flat: Optional[np.ndarray],
               counts: Optional[np.ndarray]) -> List[np.ndarray]:
        if flat is None:
            return []
        return np.split(flat, np.cumsum(counts)[:-1])

    @property
    def pred_windows(self) -> List[np.ndarray]:
        """Per query ``(n_i, 3)`` (at most :data:`MAX_PRED_WINDOWS`)."""
        return self._split(self.pred_windows_flat, self.pred_window_counts)

    @property
    def gt_windows(self) -> List[np.ndarray]:
        """Per query ``(m_i, 2)`` GT windows."""
        return self._split(self.gt_windows_flat, self.gt_window_counts)

    @property
    def pred_scores(self) -> List[np.ndarray]:
        """Per query ``(n_i,)`` predicted saliency."""
        return self._split(self.pred_scores_flat, self.pred_score_counts)

    @property
    def gt_scores(self) -> List[np.ndarray]:
        """Per query ``(C_i, 3)`` annotator scores (clipped to 0/2/3/4)."""
        return self._split(self.gt_scores_flat, self.gt_clip_counts)


class _Parser:
    """The per-record checks and the flat arrays they fill."""

    def __init__(self, pred_name: str, gt_name: str, has_mr: bool,
                 has_hl: bool, clip_len: float, strict: bool) -> None:
        self.pred_name, self.gt_name = pred_name, gt_name
        self.has_mr, self.has_hl = has_mr, has_hl
        self.clip_len, self.strict = clip_len, strict
        self.gt_index: Dict[Hashable, int] = {}
        self.gt_qids: List[Hashable] = []
        self.gt_windows = FlatBuilder(2)
        self.gt_scores = SaliencyBuilder()
        self.qids: List[Hashable] = []
        self.aligned: List[int] = []  # GT index of each prediction
        self.pred_windows = FlatBuilder(3)
        self.pred_scores = FlatBuilder(0)
        self.degenerate, self.first_degenerate = 0, None
        self.empty: List[Hashable] = []

    def add_gt(self, record: Dict[str, Any], where: str,
               qid: Hashable) -> None:
        self.gt_index[qid] = len(self.gt_qids)
        self.gt_qids.append(qid)
        if self.has_mr:
            flat = plain_rows(
                require_key(record, 'relevant_windows', where,
                            'needed for the moment retrieval metrics'),
                where, 'relevant_windows', 2)
            if not flat:
                raise SubmissionError(
                    f'{where}: relevant_windows is empty; every query '
                    'needs a GT window for moment retrieval')
            if any(flat[i + 1] < flat[i] for i in range(0, len(flat), 2)):
                raise SubmissionError(
                    f'{where}: a relevant window has end < start: '
                    f'{record["relevant_windows"]!r}'[:300])
            self.gt_windows.add(flat, len(flat) // 2)
        if self.has_hl:
            gt_saliency(record, where, self.clip_len, self.gt_scores)

    def add_pred(self, record: Dict[str, Any], where: str,
                 qid: Hashable) -> None:
        self.qids.append(qid)
        self.aligned.append(self.gt_index[qid])
        if self.has_mr:
            flat = plain_rows(record[MR_KEY], where, MR_KEY, 3)
            bad = [i for i in range(0, len(flat), 3) if flat[i + 1] <= flat[i]]
            if bad:
                if self.first_degenerate is None:
                    self.first_degenerate = (
                        qid, [float(x) for x in flat[bad[0]:bad[0] + 3]])
                self.degenerate += len(bad)
            if not flat:
                self.empty.append(qid)
            kept = flat[:3 * MAX_PRED_WINDOWS]
            self.pred_windows.add(kept, len(kept) // 3)
        if self.has_hl:
            flat = plain_scores(record[HL_KEY], where, HL_KEY)
            self.pred_scores.add(flat, len(flat))

    def finish(self) -> ParsedSubmission:
        self._report()
        parsed = ParsedSubmission(self.qids, self.has_mr, self.has_hl)
        index = np.array(self.aligned, dtype=np.int64)
        if self.has_mr:
            parsed.pred_windows_flat, parsed.pred_window_counts = (
                self.pred_windows.build())
            gt, counts = self.gt_windows.build()
            parsed.gt_windows_flat, parsed.gt_window_counts = ragged_take(
                gt, counts, index)
        if self.has_hl:
            parsed.pred_scores_flat, parsed.pred_score_counts = (
                self.pred_scores.build())
            gt, counts = self.gt_scores.build()
            parsed.gt_scores_flat, parsed.gt_clip_counts = ragged_take(
                gt, counts, index)
        return parsed

    def _report(self) -> None:
        name = self.pred_name
        if self.degenerate:
            qid, window = self.first_degenerate
            warn_or_raise(
                f'{name}: {self.degenerate} predicted window(s) have end <= '
                f'start (first: qid {qid!r}, {window}); scored like the '
                'official evaluator (IoU inter / union: a reversed window '
                'as long as a GT window has IoU NaN and matches it at every '
                'threshold)', self.strict)
        if self.empty:
            warn_or_raise(
                f'{name}: {len(self.empty)} record(s) have no predicted '
                f'window (first: qid {self.empty[0]!r}); they score AP 0 '
                'and R1 0 (the official evaluator crashes)', self.strict)


def warn_or_raise(msg: str, strict: bool) -> None:
    """Warn with a :class:`SubmissionWarning`, or raise with ``strict``."""
    if strict:
        raise SubmissionError(msg + ' [strict]')
    warnings.warn(msg, SubmissionWarning, stacklevel=4)


def _nothing_to_evaluate(name: str, with_hl: bool) -> SubmissionError:
    wanted = (f'{MR_KEY!r} or {HL_KEY!r}' if with_hl else repr(MR_KEY))
    return SubmissionError(f'{name}: the first record has no {wanted}; '
                           'nothing to evaluate')


def _check_keys(record: Dict[str, Any], where: str,
                first: Dict[str, bool]) -> None:
    """All records must agree with the first on the MR / HL keys."""
    for key, present in first.items():
        if (key in record) != present:
            state = 'lacks' if present else 'has'
            raise SubmissionError(
                f'{where} {state} {key!r} but the first record '
                f'{"has" if present else "lacks"} it; all records must agree')


def _qid_of(record: Dict[str, Any], where: str) -> Hashable:
    if 'qid' not in record:
        raise SubmissionError(f'{where}: record has no "qid"')
    qid = record['qid']
    if isinstance(qid, bool) or not isinstance(qid, (int, str)):
        raise SubmissionError(
            f'{where}: qid {qid!r} of type {type(qid).__name__}; qids must '
            'be int or str')
    return qid


def parse_submission(submission: Sequence[Dict[str, Any]],
                     ground_truth: Sequence[Dict[str, Any]],
                     pred_name: str = 'submission',
                     gt_name: str = 'ground truth',
                     with_hl: bool = True,
                     clip_len: float = HL_CLIP_LEN,
                     strict: bool = False) -> ParsedSubmission:
    """Validate in-memory records against their GT and parse them.

    MR metrics are evaluated iff the first record has
    ``pred_relevant_windows``, HL metrics iff it has ``pred_saliency_scores``
    (and ``with_hl``), as in the official code, but every record must agree.

    Args:
        submission (Sequence[dict]): Prediction records.
        ground_truth (Sequence[dict]): GT records (QVHighlights format).
        pred_name (str): Submission name for messages.
        gt_name (str): GT name for messages.
        with_hl (bool): Evaluate saliency scores if present. If False they
            are ignored (Charades-STA has no saliency GT).
        clip_len (float): HL clip length in seconds. Defaults to 2.
        strict (bool): Raise instead of warning about windows with end <=
            start and about queries without windows.

    Returns:
        ParsedSubmission: Flat arrays in submission order.
    """
    if len(submission) == 0:
        raise SubmissionError(f'{pred_name}: no prediction records')
    pred_qids = record_qids(submission, pred_name)
    gt_qids = record_qids(ground_truth, gt_name)
    check_unique(pred_qids, pred_name)
    check_unique(gt_qids, gt_name)
    check_same_qids(pred_qids, gt_qids, pred_name, gt_name)
    first = {MR_KEY: MR_KEY in submission[0]}
    if with_hl:
        first[HL_KEY] = HL_KEY in submission[0]
    for i, record in enumerate(submission):
        _check_keys(record, describe(pred_name, i, record), first)
    if not any(first.values()):
        raise _nothing_to_evaluate(pred_name, with_hl)
    parser = _Parser(pred_name, gt_name, first[MR_KEY],
                     first.get(HL_KEY, False), clip_len, strict)
    for i, (qid, record) in enumerate(zip(gt_qids, ground_truth)):
        parser.add_gt(record, describe(gt_name, i, record), qid)
    for i, (qid, record) in enumerate(zip(pred_qids, submission)):
        parser.add_pred(record, describe(pred_name, i, record), qid)
    return parser.finish()


class _Where:
    """``'<path>: line <n> (qid <qid>)'``, formatted only for a message."""
    __slots__ = ('path', 'line_no', 'record')

    def __init__(self, path: str, line_no: int, record: Dict[str, Any]):
        self.path, self.line_no, self.record = path, line_no, record

    def __str__(self) -> str:
        return describe_line(self.path, self.line_no, self.record)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _stream(path: str) -> Iterable:
    for line_no, record in iter_jsonl(path):
        where = _Where(path, line_no, record)
        yield line_no, where, _qid_of(record, where), record


def parse_submission_files(pred_path: str,
                           gt_path: str,
                           with_hl: bool = True,
                           clip_len: float = HL_CLIP_LEN,
                           strict: bool = False) -> ParsedSubmission:
    """Stream-parse a submission jsonl and its GT jsonl.

    Same rules and result as :func:`parse_submission`, but only one line of
    each file is held as Python objects at a time. Errors name the file and
    line, e.g. ``preds.jsonl: line 13 (qid 2579): pred_relevant_windows[3]
    = [1, 2] is not [start, end, score] numbers``.

    Args:
        pred_path (str): Submission jsonl.
        gt_path (str): GT jsonl.
        with_hl (bool): See :func:`parse_submission`.
        clip_len (float): HL clip length in seconds. Defaults to 2.
        strict (bool): See :func:`parse_submission`.

    Returns:
        ParsedSubmission: Flat arrays in submission order.
    """
    head = next(iter(_stream(pred_path)), None)
    if head is None:
        raise SubmissionError(f'{pred_path}: no prediction records')
    first = {MR_KEY: MR_KEY in head[3]}
    if with_hl:
        first[HL_KEY] = HL_KEY in head[3]
    if not any(first.values()):
        raise _nothing_to_evaluate(pred_path, with_hl)
    parser = _Parser(pred_path, gt_path, first[MR_KEY],
                     first.get(HL_KEY, False), clip_len, strict)
    gt_line: Dict[Hashable, int] = {}
    for line_no, where, qid, record in _stream(gt_path):
        if qid in gt_line:
            raise SubmissionError(
                f'{where}: duplicate qid {qid!r} (also on line '
                f'{gt_line[qid]}); each qid must appear exactly once')
        gt_line[qid] = line_no
        parser.add_gt(record, where, qid)
    del gt_line
    pred_line: Dict[Hashable, int] = {}
    for line_no, where, qid, record in _stream(pred_path):
        if qid in pred_line:
            raise SubmissionError(
                f'{where}: duplicate qid {qid!r} (also on line '
                f'{pred_line[qid]}); each qid must appear exactly once')
        pred_line[qid] = line_no
        _check_keys(record, where, first)
        if qid in parser.gt_index:  # unknown qids are reported below
            parser.add_pred(record, where, qid)
    all_qids = list(pred_line)
    del pred_line
    check_same_qids(all_qids, parser.gt_qids, pred_path, gt_path)
    return parser.finish()
