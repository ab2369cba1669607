# Copyright (c) mmmrhd contributors. All rights reserved.
"""Per-record checks and the flat arrays they fill (used by ``parsing``).

The checks take a fast path in plain Python for the usual JSON values
(lists of ints / floats) and fall back to :func:`~.submission.parse_windows`
/ :func:`~.submission.parse_scores` for the precise error. The builders
buffer a bounded number of Python numbers and convert them to numpy chunk
by chunk.
"""
from itertools import chain
from math import isfinite
from typing import Any, Dict, List, Optional

import numpy as np

from .highlight import HL_LEVELS, NUM_ANNOTATORS
from .submission import (SubmissionError, parse_number, parse_scores,
                         parse_windows, require_key)

#: GT saliency is stored clipped down to the nearest HL threshold (0 below
#: the lowest): exact for every ``score >= threshold`` test, one byte each.
_HL_THRESHOLDS = tuple(t for _, t in HL_LEVELS)


def plain_rows(value: Any, where: str, field: str, width: int,
                what: Optional[str] = None) -> List[float]:
    """Validate ``[[x, ...], ...]`` rows of ``width`` finite numbers.

    The fast path (lists of plain ints/floats) stays in Python; anything
    else goes through :func:`parse_windows`, which raises the precise error
    (or accepts other real number types).

    Returns:
        list: The numbers, row after row.
    """
    if (type(value) is list and set(map(type, value)) <= _LISTS
            and set(map(len, value)) <= {width}):
        flat = list(chain.from_iterable(value))
        if set(map(type, flat)) <= _NUMBERS:
            try:
                if all(map(isfinite, flat)):
                    return flat
            except OverflowError:  # an int beyond the float range
                pass
    return parse_windows(value, where, field, width, what).ravel().tolist()


def plain_scores(value: Any, where: str, field: str) -> List[float]:
    """Validate a non-empty list of finite numbers (fast path as above)."""
    if type(value) is list and value and set(map(type, value)) <= _NUMBERS:
        try:
            if all(map(isfinite, value)):
                return value
        except OverflowError:
            pass
    return parse_scores(value, where, field).tolist()


_LISTS = {list, tuple}
_NUMBERS = {int, float}
#: Python numbers buffered before a flat builder converts them to numpy.
FLUSH_VALUES = 1 << 18
#: GT records buffered before their saliency is converted to numpy.
FLUSH_RECORDS = 4096


class FlatBuilder:
    """Collect per-record numbers into one flat float64 array.

    Numbers are buffered as Python lists and converted chunk by chunk, so
    memory holds at most :data:`FLUSH_VALUES` Python numbers at a time.
    """

    def __init__(self, width: int):
        self.width, self.flush_at = width, FLUSH_VALUES
        self.values: List[float] = []
        self.chunks: List[np.ndarray] = []
        self.counts: List[int] = []

    def add(self, values: List[float], rows: int) -> None:
        self.values += values
        self.counts.append(rows)
        if len(self.values) >= self.flush_at:
            self._flush()

    def _flush(self) -> None:
        if self.values:
            self.chunks.append(np.array(self.values, dtype=np.float64))
            self.values = []

    def build(self) -> tuple:
        self._flush()
        flat = np.concatenate(self.chunks) if self.chunks else np.zeros(0)
        self.chunks = []
        shape = (-1, self.width) if self.width else (-1, )
        return flat.reshape(shape), np.array(self.counts, dtype=np.int64)


class SaliencyBuilder:
    """GT saliency of many queries as ``(C, 3)`` int8, clip after clip.

    Scores are clipped down to the nearest :data:`HL_LEVELS` threshold
    (0 below the lowest), which keeps every ``score >= threshold`` test
    exact in one byte per score.
    """

    def __init__(self):
        self.flush_every = FLUSH_RECORDS
        self.ids: List[int] = []
        self.id_counts: List[int] = []
        self.scores: List[float] = []
        self.num_clips: List[int] = []
        self.pending = 0
        self.chunks: List[np.ndarray] = []

    def add(self, num_clips: int, ids: List[int], scores: List[float]):
        self.num_clips.append(num_clips)
        self.ids += ids
        self.id_counts.append(len(ids))
        self.scores += scores
        self.pending += 1
        if self.pending >= self.flush_every:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        clips = np.array(self.num_clips[-self.pending:], dtype=np.int64)
        base = np.cumsum(clips) - clips
        rows = np.array(self.ids, dtype=np.int64) + np.repeat(
            base, self.id_counts)
        raw = np.array(self.scores, dtype=np.float64).reshape(
            -1, NUM_ANNOTATORS)
        clipped = np.zeros(raw.shape, dtype=np.int8)
        for thr in _HL_THRESHOLDS:
            clipped[raw >= thr] = thr
        full = np.zeros((int(clips.sum()), NUM_ANNOTATORS), dtype=np.int8)
        # Later duplicates of a clip id win, as in the official fancy
        # indexing ``scores_full[relevant_clip_ids] = saliency_scores``.
        full[rows] = clipped
        self.chunks.append(full)
        self.ids, self.id_counts, self.scores, self.pending = [], [], [], 0

    def build(self) -> tuple:
        self._flush()
        flat = (np.concatenate(self.chunks) if self.chunks else np.zeros(
            (0, NUM_ANNOTATORS), dtype=np.int8))
        self.chunks = []
        return flat, np.array(self.num_clips, dtype=np.int64)


def gt_saliency(record: Dict[str, Any], where: str, clip_len: float,
                 out: SaliencyBuilder) -> None:
    """Check one GT record's saliency fields and add them to ``out``."""
    hint = 'needed for the highlight metrics'
    duration = parse_number(require_key(record, 'duration', where, hint),
                            where, 'duration')
    num_clips = int(duration / clip_len)
    if num_clips < 1:
        raise SubmissionError(
            f'{where}: duration {duration} gives no {clip_len:g}-s clip')
    ids = require_key(record, 'relevant_clip_ids', where, hint)
    scores = require_key(record, 'saliency_scores', where, hint)
    if (not isinstance(ids, list) or not set(map(type, ids)) <= {int}
            or (ids and not 0 <= min(ids) <= max(ids) < num_clips)):
        raise SubmissionError(
            f'{where}: relevant_clip_ids must be ints in [0, {num_clips}) '
            f'(duration {duration} / {clip_len:g} s), got {ids!r}'[:300])
    flat = plain_rows(scores, where, 'saliency_scores', NUM_ANNOTATORS,
                       f'{NUM_ANNOTATORS} annotator scores')
    if len(flat) != NUM_ANNOTATORS * len(ids):
        raise SubmissionError(
            f'{where}: {len(flat) // NUM_ANNOTATORS} saliency_scores rows '
            f'for {len(ids)} relevant_clip_ids')
    out.add(num_clips, ids, flat)
