# Copyright (c) mmmrhd contributors. All rights reserved.
"""Reading and checking MR/HD annotation files (one JSON object per line).

Every error names the file and the 1-based line number of the offending
record (``path:line``), plus the ``qid`` once it is known, so that a broken
record in a 10k-line file can be found at once. Missing fields raise
:class:`KeyError`, fields of the wrong JSON type :class:`TypeError` and bad
values :class:`ValueError`; all of them are also
:class:`~mmmrhd.utils.errors.DataError` (see :mod:`.data_errors`).
"""
import json
import math
import os.path as osp
from collections import Counter
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
from .data_errors import (DataError, DataFileNotFoundError, DataKeyError,
                          DataTypeError)
from .storage import file_exists, is_local, read_bytes

__all__ = [
    'load_jsonl_records', 'decode_utf8', 'require_field', 'check_id',
    'qid_key', 'check_str',
    'check_number', 'check_windows', 'check_clip_ids', 'check_score_matrix'
]


def load_jsonl_records(path: str,
                       backend_args: Optional[dict] = None,
                       problems: Optional[List[str]] = None
                       ) -> List[Tuple[int, dict]]:
    """Read a jsonl annotation file.

    Blank lines (e.g. a trailing newline) are skipped; every other line must
    hold one JSON object.

    Args:
        path (str): The annotation file.
        backend_args (dict, optional): MMEngine storage backend arguments
            (:mod:`mmmrhd.datasets.storage`).
        problems (list[str], optional): If given, a bad line is appended
            here (its message) and skipped instead of raised.

    Returns:
        list[tuple[int, dict]]: ``(line number, record)`` pairs, in file
        order. The records are exactly what ``json.loads`` returned.
    """
    if is_local(path, backend_args):
        if not osp.isfile(path):
            raise DataFileNotFoundError(f'annotation file not found: {path}')
        with open(path, 'rb') as f:
            data = f.read()
    else:
        if file_exists(path, backend_args) is False:
            raise DataFileNotFoundError(f'annotation file not found: {path}')
        data = read_bytes(path, backend_args, 'annotation')
    text = decode_utf8(data, path)
    records = []
    # Split on '\n' only: str.splitlines() also splits inside JSON strings
    # holding e.g. U+2028, which would break records and line numbers.
    for lineno, line in enumerate(text.split('\n'), start=1):
        if not line.strip():
            continue
        try:
            records.append((lineno, _parse_line(line, path, lineno)))
        except DataError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    if not records and not problems:
        raise DataError(f'{path}: the annotation file holds no record')
    return records


def _parse_line(line: str, path: str, lineno: int) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f'{path}:{lineno}: malformed JSON line '
                        f'({exc.msg} at column {exc.colno})') from None
    if not isinstance(record, dict):
        raise DataTypeError(f'{path}:{lineno}: expected a JSON object, got '
                            f'{type(record).__name__}')
    return record


def decode_utf8(data: bytes, path: str) -> str:
    """Decode an annotation file as UTF-8 (a BOM is dropped).

    Raises:
        DataError: Naming ``path``, the 1-based line and column and the
            offending byte, instead of a bare ``UnicodeDecodeError``.
    """
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        start = data.rfind(b'\n', 0, exc.start) + 1
        lineno = data.count(b'\n', 0, exc.start) + 1
        raise DataError(
            f'{path}:{lineno}: not valid UTF-8 (byte '
            f'0x{data[exc.start]:02x} at column {exc.start - start + 1}); '
            'annotation files must be UTF-8 encoded') from None


def require_field(record: dict, field: str, where: str) -> Any:
    """Return ``record[field]``; KeyError naming ``where`` if it is absent."""
    if field not in record:
        raise DataKeyError(f'{where}: missing field {field!r}')
    return record[field]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_id(value: Any, field: str, where: str) -> Any:
    """Check an identifier (``qid``): a JSON integer or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DataTypeError(f'{where}: {field!r} must be an integer or a '
                            f'string, got {type(value).__name__} {value!r}')
    if isinstance(value, str) and (not value.strip() or '/' in value
                                   or '\\' in value):
        # The id names a feature file (official 'qid{qid}.npz').
        raise DataError(f'{where}: {field!r} must be a non-empty id without '
                        f'path separators, got {value!r}')
    return value


def qid_key(qid: Any) -> str:
    """The canonical key of a ``qid``: ``str(qid)``.

    Feature files are named by formatting the qid into a template (official
    ``qid{qid}.npz``), so the JSON integer ``600`` and the string ``"600"``
    name the same file ``qid600.npz``: two records whose qids have the same
    key are duplicates.
    """
    return str(qid)


def check_str(value: Any, field: str, where: str) -> str:
    """Check a string field (``query``, ``vid``)."""
    if not isinstance(value, str):
        raise DataTypeError(f'{where}: {field!r} must be a string, got '
                            f'{type(value).__name__} {value!r}')
    return value


def check_number(value: Any,
                 field: str,
                 where: str,
                 positive: bool = False) -> float:
    """Check a finite JSON number; optionally strictly positive."""
    if not _is_number(value):
        raise DataTypeError(f'{where}: {field!r} must be a number, got '
                            f'{type(value).__name__} {value!r}')
    if not math.isfinite(value) or (positive and value <= 0):
        kind = 'a positive' if positive else 'a finite'
        raise DataError(f'{where}: {field!r} must be {kind} number, got '
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
        raise DataTypeError(
            f'{where}: {field!r} must be a list of [start, end] '
            f'pairs, got {type(value).__name__}')
    if len(value) == 0:
        raise DataError(f'{where}: {field!r} is empty')
    for i, win in enumerate(value):
        if (not isinstance(win, list) or len(win) != 2
                or not all(_is_number(x) for x in win)):
            raise DataTypeError(
                f'{where}: {field}[{i}] must be a [start, end] '
                f'pair of numbers, got {win!r}')
        start, end = win
        if not (math.isfinite(start) and math.isfinite(end)):
            raise DataError(f'{where}: {field}[{i}] = {win!r} is not finite')
        if start > end:
            raise DataError(f'{where}: {field}[{i}] = {win!r} has start > '
                            'end')
        if start < -tol or end > duration + tol:
            raise DataError(
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
        raise DataTypeError(
            f'{where}: {field!r} must be a list of clip ids, got '
            f'{type(value).__name__}')
    if len(value) == 0:
        raise DataError(f'{where}: {field!r} is empty')
    for i, cid in enumerate(value):
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise DataTypeError(
                f'{where}: {field}[{i}] must be an integer, got '
                f'{cid!r}')
        if cid < 0 or cid * clip_len >= duration:
            raise DataError(
                f'{where}: {field}[{i}] = {cid} is outside the video '
                f'(duration {duration:g} s, clip_len {clip_len:g} s)')
    if len(set(value)) != len(value):
        dups = sorted(c for c, n in Counter(value).items() if n > 1)
        raise DataError(f'{where}: {field!r} has duplicate ids {dups}')
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
        raise DataTypeError(
            f'{where}: {field!r} must be a list of score lists, '
            f'got {type(value).__name__}')
    if len(value) != num_rows:
        raise DataError(f'{where}: {field!r} has {len(value)} rows, '
                        f'expected {num_rows} (one per clip)')
    low, high = score_range
    width = None
    for i, row in enumerate(value):
        if (not isinstance(row, list) or len(row) == 0
                or not all(_is_number(x) for x in row)):
            raise DataTypeError(
                f'{where}: {field}[{i}] must be a non-empty list '
                f'of numbers, got {row!r}')
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DataError(f'{where}: {field}[{i}] has {len(row)} scores, '
                            f'but {field}[0] has {width}')
        bad = [x for x in row if not (low <= x <= high)]
        if bad:
            raise DataError(f'{where}: {field}[{i}] = {row!r} has scores '
                            f'outside [{low:g}, {high:g}]')
    return np.asarray(value, dtype=np.float64).reshape(num_rows, -1)
