# Copyright (c) mmmrhd contributors. All rights reserved.
"""Reading and checking MR/HD annotation files (one JSON object per line).

Every error names the file and the 1-based line number of the offending
record (``path:line``), plus the ``qid`` once it is known, so that a broken
record in a 10k-line file can be found at once. Missing fields raise
:class:`KeyError`, fields of the wrong JSON type :class:`TypeError` and bad
values :class:`ValueError`.
"""
import json
import math
from collections import Counter
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import exists, get_text

__all__ = [
    'load_jsonl_records', 'require_field', 'check_id', 'check_str',
    'check_number', 'check_windows', 'check_clip_ids', 'check_score_matrix'
]


def load_jsonl_records(path: str,
                       backend_args: Optional[dict] = None
                       ) -> List[Tuple[int, dict]]:
    """Read a jsonl annotation file.

    Blank lines (e.g. a trailing newline) are skipped; every other line must
    hold one JSON object.

    Args:
        path (str): The annotation file.
        backend_args (dict, optional): MMEngine file backend arguments.

    Returns:
        list[tuple[int, dict]]: ``(line number, record)`` pairs, in file
        order. The records are exactly what ``json.loads`` returned.
    """
    if not exists(path, backend_args=backend_args):
        raise FileNotFoundError(f'annotation file not found: {path}')
    text = get_text(path, backend_args=backend_args)
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f'{path}:{lineno}: malformed JSON line '
                             f'({exc.msg} at column {exc.colno})') from None
        if not isinstance(record, dict):
            raise TypeError(f'{path}:{lineno}: expected a JSON object, got '
                            f'{type(record).__name__}')
        records.append((lineno, record))
    if not records:
        raise ValueError(f'{path}: the annotation file holds no record')
    return records


def require_field(record: dict, field: str, where: str) -> Any:
    """Return ``record[field]``; KeyError naming ``where`` if it is absent."""
    if field not in record:
        raise KeyError(f'{where}: missing field {field!r}')
    return record[field]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_id(value: Any, field: str, where: str) -> Any:
    """Check an identifier (``qid``): a JSON integer or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f'{where}: {field!r} must be an integer or a string, '
                        f'got {type(value).__name__} {value!r}')
    return value


def check_str(value: Any, field: str, where: str) -> str:
    """Check a string field (``query``, ``vid``)."""
    if not isinstance(value, str):
        raise TypeError(f'{where}: {field!r} must be a string, got '
                        f'{type(value).__name__} {value!r}')
    return value


def check_number(value: Any,
                 field: str,
                 where: str,
                 positive: bool = False) -> float:
    """Check a finite JSON number; optionally strictly positive."""
    if not _is_number(value):
        raise TypeError(f'{where}: {field!r} must be a number, got '
                        f'{type(value).__name__} {value!r}')
    if not math.isfinite(value) or (positive and value <= 0):
        kind = 'a positive' if positive else 'a finite'
        raise ValueError(f'{where}: {field!r} must be {kind} number, got '
                         f'{value!r}')
    return float(value)


def check_windows(value: Any, field: str, where: str, duration: float,
                  tol: float) -> np.ndarray:
    """Check a non-empty list of ``[start, end]`` windows in seconds.

    Args:
        value: The raw field value.
        field (str): Field name for messages.
        where (str): ``path:line (qid=...)`` for messages.
        duration (float): Video duration in seconds.
        tol (float): Windows may exceed ``[0, duration]`` by this much.

    Returns:
        np.ndarray: float32 ``(n, 2)`` windows, unchanged.
    """
    if not isinstance(value, list):
        raise TypeError(f'{where}: {field!r} must be a list of [start, end] '
                        f'pairs, got {type(value).__name__}')
    if len(value) == 0:
        raise ValueError(f'{where}: {field!r} is empty')
    for i, win in enumerate(value):
        if (not isinstance(win, list) or len(win) != 2
                or not all(_is_number(x) for x in win)):
            raise TypeError(f'{where}: {field}[{i}] must be a [start, end] '
                            f'pair of numbers, got {win!r}')
        start, end = win
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f'{where}: {field}[{i}] = {win!r} is not finite')
        if start > end:
            raise ValueError(f'{where}: {field}[{i}] = {win!r} has start > '
                             'end')
        if start < -tol or end > duration + tol:
            raise ValueError(
                f'{where}: {field}[{i}] = {win!r} lies outside the video '
                f'[0, {duration:g}] s by more than {tol:g} s')
    return np.asarray(value, dtype=np.float32).reshape(-1, 2)


def check_clip_ids(value: Any, field: str, where: str, duration: float,
                   clip_len: float) -> np.ndarray:
    """Check a non-empty list of unique clip ids inside the video.

    A clip id ``i`` covers ``[i * clip_len, (i + 1) * clip_len)`` seconds; it
    must start before ``duration``.

    Returns:
        np.ndarray: int64 ``(K,)`` ids in file order.
    """
    if not isinstance(value, list):
        raise TypeError(f'{where}: {field!r} must be a list of clip ids, got '
                        f'{type(value).__name__}')
    if len(value) == 0:
        raise ValueError(f'{where}: {field!r} is empty')
    for i, cid in enumerate(value):
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise TypeError(f'{where}: {field}[{i}] must be an integer, got '
                            f'{cid!r}')
        if cid < 0 or cid * clip_len >= duration:
            raise ValueError(
                f'{where}: {field}[{i}] = {cid} is outside the video '
                f'(duration {duration:g} s, clip_len {clip_len:g} s)')
    if len(set(value)) != len(value):
        dups = sorted(c for c, n in Counter(value).items() if n > 1)
        raise ValueError(f'{where}: {field!r} has duplicate ids {dups}')
    return np.asarray(value, dtype=np.int64)


def check_score_matrix(value: Any, field: str, where: str, num_rows: int,
                       score_range: Sequence[float]) -> np.ndarray:
    """Check a ``(num_rows, A)`` list of per-annotator score lists.

    Args:
        value: The raw field value.
        field (str): Field name for messages.
        where (str): ``path:line (qid=...)`` for messages.
        num_rows (int): The required number of rows (one per clip).
        score_range (Sequence[float]): Inclusive ``(low, high)`` bounds.

    Returns:
        np.ndarray: float64 ``(num_rows, A)`` scores.
    """
    if not isinstance(value, list):
        raise TypeError(f'{where}: {field!r} must be a list of score lists, '
                        f'got {type(value).__name__}')
    if len(value) != num_rows:
        raise ValueError(f'{where}: {field!r} has {len(value)} rows, '
                         f'expected {num_rows} (one per clip)')
    low, high = score_range
    width = None
    for i, row in enumerate(value):
        if (not isinstance(row, list) or len(row) == 0
                or not all(_is_number(x) for x in row)):
            raise TypeError(f'{where}: {field}[{i}] must be a non-empty list '
                            f'of numbers, got {row!r}')
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise ValueError(f'{where}: {field}[{i}] has {len(row)} scores, '
                             f'but {field}[0] has {width}')
        bad = [x for x in row if not (low <= x <= high)]
        if bad:
            raise ValueError(f'{where}: {field}[{i}] = {row!r} has scores '
                             f'outside [{low:g}, {high:g}]')
    return np.asarray(value, dtype=np.float64).reshape(num_rows, -1)
