# Copyright (c) mmmrhd contributors. All rights reserved.
"""Reading, writing and checking submissions and ground-truth records.

A *submission* is a list of prediction records in the official QVHighlights
format (``qid``, ``query``, ``vid``, ``pred_relevant_windows`` =
``[[start, end, score], ...]``, ``pred_saliency_scores`` = ``[float, ...]``).
Every check here raises a one-line :class:`SubmissionError` (a
:class:`ValueError`) that names the file, the record and the field.
"""
import itertools
import json
import os
import os.path as osp
from collections import Counter
from math import isfinite
from numbers import Real
from typing import (Any, Dict, Hashable, Iterable, Iterator, List, Optional,
                    Sequence, Tuple)

import numpy as np

from mmmrhd.utils.errors import DataError

#: Keys of a submission record in the order the official files use
#: (moment_detr ``inference.py``: ``dict(qid, query, vid,
#: pred_relevant_windows, pred_saliency_scores)``).
SUBMISSION_KEYS = ('qid', 'query', 'vid', 'pred_relevant_windows',
                   'pred_saliency_scores')


class SubmissionError(DataError):
    """A submission or ground-truth file cannot be evaluated.

    A :class:`~mmmrhd.utils.errors.DataError` (hence a ``ValueError``): the
    tools print it as one ``error: ...`` line and exit with status 2.
    """


class SubmissionWarning(UserWarning):
    """A submission is evaluated, but part of it is scored by our own rule.

    Raised as an error instead when the evaluation runs with
    ``strict=True``.
    """


def iter_jsonl(path: str) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Stream a jsonl file: yield ``(line_number, record)`` one at a time.

    Blank lines are skipped; only one line is held in memory at a time.

    Args:
        path (str): File path.

    Yields:
        tuple[int, dict]: 1-based line number and the parsed object.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        SubmissionError: If the file cannot be read, is not UTF-8, or a line
            is not a JSON object (naming the line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'jsonl file not found: {path}')
    try:
        f = open(path, 'rb')
    except OSError as e:
        raise SubmissionError(
            f'{path}: cannot read ({e.strerror or e})') from None
    with f:
        for line_no, raw in enumerate(f, 1):
            try:
                line = raw.decode('utf-8')
            except UnicodeDecodeError as e:
                raise SubmissionError(
                    f'{path}: line {line_no} is not UTF-8 text ({e.reason} '
                    f'at byte {e.start + 1} of the line)') from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise SubmissionError(
                    f'{path}: line {line_no} is not valid JSON ({e.msg})'
                ) from None
            if not isinstance(record, dict):
                raise SubmissionError(
                    f'{path}: line {line_no} is a JSON '
                    f'{type(record).__name__}, expected an object')
            yield line_no, record


def load_jsonl(path: str) -> List[Dict[str, Any]]:
    """Read a jsonl file (one JSON object per line; blank lines skipped).

    Args:
        path (str): File path.

    Returns:
        list[dict]: The records in file order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        SubmissionError: If a line is not a JSON object.
    """
    return [record for _, record in iter_jsonl(path)]


def to_submission_record(pred: Dict[str, Any]) -> Dict[str, Any]:
    """Turn a model prediction dict into an official submission record.

    Drops ``duration``, ``ann`` and any other extra key and orders the keys
    as :data:`SUBMISSION_KEYS` (``pred_saliency_scores`` only if present).

    Args:
        pred (dict): A prediction in the data-contract format.

    Returns:
        dict: ``{qid, query, vid, pred_relevant_windows?,
        pred_saliency_scores?}``.
    """
    for key in ('qid', 'query', 'vid'):
        if key not in pred:
            raise SubmissionError(
                f'prediction {_qid_repr(pred)} has no {key!r}; cannot write '
                'an official submission record')
    return {k: pred[k] for k in SUBMISSION_KEYS if k in pred}


def dump_jsonl(records: Iterable[Dict[str, Any]], path: str) -> None:
    """Write records as jsonl (one ``json.dumps`` line each).

    Parent directories are created.

    Args:
        records (Iterable[dict]): Records to write.
        path (str): Output path.
    """
    out_dir = osp.dirname(osp.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def _qid_repr(record: Any) -> str:
    if isinstance(record, dict) and 'qid' in record:
        return f'qid {record["qid"]!r}'
    return '(no qid)'


def _few(items: Sequence[Any], n: int = 3) -> str:
    shown = ', '.join(repr(x) for x in items[:n])
    return shown + (', ...' if len(items) > n else '')


def record_qids(records: Sequence[Any], name: str) -> List[Hashable]:
    """Return the ``qid`` of every record, checking its type.

    Args:
        records (Sequence[dict]): Submission or ground-truth records.
        name (str): File or source name used in error messages.

    Returns:
        list: The qids in record order.

    Raises:
        SubmissionError: On a non-dict record, a missing qid or a qid that is
            neither an int nor a str.
    """
    qids = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise SubmissionError(
                f'{name}: record {i} is a {type(record).__name__}, '
                'expected a dict')
        if 'qid' not in record:
            raise SubmissionError(f'{name}: record {i} has no "qid"')
        qid = record['qid']
        if isinstance(qid, bool) or not isinstance(qid, (int, str)):
            raise SubmissionError(
                f'{name}: record {i} has qid {qid!r} of type '
                f'{type(qid).__name__}; qids must be int or str')
        qids.append(qid)
    return qids


def check_unique(qids: Sequence[Hashable], name: str) -> None:
    """Raise if a qid appears more than once.

    The official evaluator does not reject duplicates (its mAP pools the
    records of a qid while R1/HL keep the last one); we refuse them.
    """
    counts = Counter(qids)
    dups = [q for q in dict.fromkeys(qids) if counts[q] > 1]
    if dups:
        raise SubmissionError(
            f'{name}: {len(dups)} duplicate qid(s) ({_few(dups)}); each qid '
            'must appear exactly once')


def check_same_qids(pred_qids: Sequence[Hashable], gt_qids: Sequence[Hashable],
                    pred_name: str, gt_name: str) -> None:
    """Raise unless both qid lists hold the same set of qids.

    Args:
        pred_qids (Sequence): Submission qids (unique).
        gt_qids (Sequence): Ground-truth qids (unique).
        pred_name (str): Submission name for messages.
        gt_name (str): Ground-truth name for messages.

    Raises:
        SubmissionError: Listing a few missing and extra qids, and saying
            so when the difference is only the qid type (``'2579' !=
            2579``).
    """
    pred_set, gt_set = set(pred_qids), set(gt_qids)
    if pred_set == gt_set:
        return
    missing = [q for q in gt_qids if q not in pred_set]
    extra = [q for q in pred_qids if q not in gt_set]
    parts = []
    if missing:
        parts.append(f'{len(missing)} qid(s) of {gt_name} missing from '
                     f'{pred_name} ({_few(missing)})')
    if extra:
        parts.append(f'{len(extra)} qid(s) of {pred_name} not in {gt_name} '
                     f'({_few(extra)})')
    raise SubmissionError('; '.join(parts) +
                          type_clash_hint(extra, missing, pred_name, gt_name))


def type_clash_hint(extra: Sequence[Hashable], candidates: Sequence[Hashable],
                    pred_name: str, gt_name: str) -> str:
    """Explain an unknown qid that only differs from a GT qid by type.

    Args:
        extra (Sequence): Submission qids not found in the GT.
        candidates (Sequence): GT qids they might have been meant as.
        pred_name (str): Submission name for messages.
        gt_name (str): GT name for messages.

    Returns:
        str: ``'; qid types differ: ...'`` or ``''``.
    """
    by_str = {str(q): q for q in candidates}
    for p in extra:
        g = by_str.get(str(p))
        if g is not None and type(g) is not type(p):
            return (f'; qid types differ: {pred_name} has {p!r} '
                    f'({type(p).__name__}) where {gt_name} has {g!r} '
                    f'({type(g).__name__}), and {p!r} != {g!r}')
    return ''


#: Types accepted without an ``isinstance`` check (the fast path).
_PLAIN_NUMBERS = {int, float}
_PLAIN_SEQUENCES = {list, tuple}


def _is_number(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def _all_plain_numbers(values: Iterable[Any]) -> bool:
    """Fast check that every value is a plain int or float (not bool)."""
    return set(map(type, values)) <= _PLAIN_NUMBERS


def parse_number(value: Any, where: str, field: str) -> float:
    """Return ``value`` as a finite float or raise naming ``where/field``."""
    if type(value) in _PLAIN_NUMBERS:
        try:
            if isfinite(value):
                return float(value)
        except OverflowError:  # an int beyond the float range
            pass
    elif _is_number(value) and np.isfinite(value):
        return float(value)
    raise SubmissionError(
            f'{where}: {field!r} must be a finite number, got {value!r}')


def parse_windows(value: Any,
                  where: str,
                  field: str,
                  width: int,
                  what: Optional[str] = None) -> np.ndarray:
    """Parse a list of windows into a float64 array.

    Args:
        value: The field value, e.g. ``[[st, ed, score], ...]``.
        where (str): Record description for messages
            (``'preds.jsonl: record 3 (qid 2579)'``).
        field (str): Field name for messages.
        width (int): Numbers per window (3 for predictions
            ``[start, end, score]``, 2 for ground truth ``[start, end]``).
        what (str, optional): How to name one row in messages. Defaults to
            ``'[start, end, score]'`` / ``'[start, end]'`` by ``width``.

    Returns:
        np.ndarray: ``(n, width)`` float64 array (``n`` may be 0).

    Raises:
        SubmissionError: If ``value`` is not a list of ``width`` finite
            numbers each (bools and strings are refused).
    """
    if what is None:
        what = '[start, end, score]' if width == 3 else '[start, end]'
    if not isinstance(value, (list, tuple)):
        raise SubmissionError(
            f'{where}: {field!r} must be a list of {what}, got '
            f'{type(value).__name__}')
    plain = (set(map(type, value)) <= _PLAIN_SEQUENCES
             and set(map(len, value)) <= {width}
             and _all_plain_numbers(itertools.chain.from_iterable(value)))
    if not plain:  # slow path: other Real types, or find the bad window
        for j, w in enumerate(value):
            if (not isinstance(w, (list, tuple)) or len(w) != width
                    or not all(_is_number(x) for x in w)):
                raise SubmissionError(
                    f'{where}: {field}[{j}] = {w!r} is not {what} numbers')
    arr = np.array(value, dtype=np.float64).reshape(len(value), width)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        j = int(np.argmin(finite))
        raise SubmissionError(
            f'{where}: {field}[{j}] = {value[j]!r} is not finite')
    return arr


def parse_scores(value: Any, where: str, field: str) -> np.ndarray:
    """Parse a non-empty list of finite numbers (saliency scores).

    Args:
        value: The field value.
        where (str): Record description for messages.
        field (str): Field name for messages.

    Returns:
        np.ndarray: ``(n,)`` float64 array, ``n >= 1``.
    """
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        got = (f'an empty {type(value).__name__}' if isinstance(
            value, (list, tuple)) else type(value).__name__)
        raise SubmissionError(
            f'{where}: {field!r} must be a non-empty list of numbers, '
            f'got {got}')
    if not _all_plain_numbers(value) and not all(_is_number(x) for x in value):
        j = next(j for j, x in enumerate(value) if not _is_number(x))
        raise SubmissionError(
            f'{where}: {field}[{j}] = {value[j]!r} is not a number')
    arr = np.array(value, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        j = int(np.argmin(finite))
        raise SubmissionError(
            f'{where}: {field}[{j}] = {value[j]!r} is not finite')
    return arr


def describe(name: str, index: int, record: Dict[str, Any]) -> str:
    """``'<name>: record <index> (qid <qid>)'`` for error messages."""
    return f'{name}: record {index} ({_qid_repr(record)})'


def describe_line(path: str, line_no: int, record: Dict[str, Any]) -> str:
    """``'<path>: line <line_no> (qid <qid>)'`` for error messages."""
    return f'{path}: line {line_no} ({_qid_repr(record)})'


def require_key(record: Dict[str, Any],
                key: str,
                where: str,
                hint: Optional[str] = None) -> Any:
    """Return ``record[key]`` or raise a :class:`SubmissionError`."""
    if key not in record or record[key] is None:
        state = 'is null' if key in record else 'is missing'
        raise SubmissionError(f'{where}: field {key!r} {state}' +
                              (f' ({hint})' if hint else ''))
    return record[key]
