# Copyright (c) mmmrhd contributors. All rights reserved.
"""QVHighlights / Charades-STA evaluation with the official output layout.

:func:`evaluate_qvhighlights` reproduces jayleicn/moment_detr
``standalone_eval/eval.py eval_submission`` (``variant='qvhighlights'``) and
the Charades-STA variant of wjun0830/CGDETR ``standalone_eval/eval.py``
(``variant='charades_sta'``: R1 at 0.3:0.05:0.95 and ``MR-mIoU``, no
highlight metrics). Bad submissions raise a one-line
:class:`~.submission.SubmissionError`; see ``docs/en/user_guides/metrics.md``
for the rules that differ from the official code.
"""
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, List, Sequence

import numpy as np

from .formatting import (assemble_results, empty_bucket_zeros, mr_section,
                         percent)
from .highlight import HL_CLIP_LEN, HL_LEVELS, NUM_ANNOTATORS, hl_metrics
from .moment_retrieval import (CHARADES_R1_THRESHOLDS, MR_MAP_THRESHOLDS,
                               QVH_R1_THRESHOLDS, mr_average_precision,
                               mr_bucket_masks, mr_top1_iou)
from .submission import (SubmissionError, SubmissionWarning, check_same_qids,
                         check_unique, describe, parse_number, parse_scores,
                         parse_windows, record_qids, require_key)

#: GT window length buckets ``(lo, hi]`` in seconds, in the official
#: evaluation order (eval.py ``eval_moment_retrieval``: ``[0, 10], [10,
#: 30], [30, 150], [0, 150]``; ``[0, 150]`` = "full" keeps everything).
MR_BUCKETS = OrderedDict([('short', (0, 10)), ('middle', (10, 30)),
                          ('long', (30, 150)), ('full', None)])


@dataclass(frozen=True)
class Variant:
    """What differs between the QVHighlights and Charades-STA evaluators."""
    name: str
    r1_thresholds: tuple
    brief_r1: tuple
    with_miou: bool
    with_hl: bool


VARIANTS = {
    'qvhighlights':
    Variant('qvhighlights', QVH_R1_THRESHOLDS, (0.5, 0.7), False, True),
    # CG-DETR eval.py: R1 thresholds np.linspace(0.3, 0.95, 14), brief
    # R1@0.3/0.5/0.7 + MR-full-mIoU; Charades has no saliency GT.
    'charades_sta':
    Variant('charades_sta', CHARADES_R1_THRESHOLDS, (0.3, 0.5, 0.7), True,
            False),
}
#: How to report a length bucket without any GT window.
EMPTY_BUCKET_MODES = ('omit', 'zeros', 'full')


@dataclass
class ParsedSubmission:
    """A validated submission aligned with its ground truth.

    All lists follow the submission order.
    """
    qids: List[Hashable]
    has_mr: bool
    has_hl: bool
    #: Per query ``(n_i, 3)`` ``[start, end, score]`` in file order.
    pred_windows: List[np.ndarray] = field(default_factory=list)
    #: Per query ``(m_i, 2)`` GT windows.
    gt_windows: List[np.ndarray] = field(default_factory=list)
    #: Per query ``(n_i,)`` predicted saliency.
    pred_scores: List[np.ndarray] = field(default_factory=list)
    #: Per query ``(C_i, 3)`` annotator scores.
    gt_scores: List[np.ndarray] = field(default_factory=list)


def _key_presence(submission: Sequence[Dict[str, Any]], key: str,
                  pred_name: str) -> bool:
    """Whether ``key`` is used: decided by the first record, as officially,
    but every record must agree."""
    present = key in submission[0]
    for i, record in enumerate(submission):
        if (key in record) != present:
            state = 'lacks' if present else 'has'
            raise SubmissionError(
                f'{describe(pred_name, i, record)} {state} {key!r} but the '
                f'first record {"has" if present else "lacks"} it; all '
                'records must agree')
    return present


def _gt_saliency(record: Dict[str, Any], where: str,
                 clip_len: float) -> np.ndarray:
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
    arr = parse_windows(scores, where, 'saliency_scores', NUM_ANNOTATORS,
                        f'{NUM_ANNOTATORS} annotator scores')
    if len(arr) != len(ids):
        raise SubmissionError(
            f'{where}: {len(arr)} saliency_scores rows for {len(ids)} '
            'relevant_clip_ids')
    full = np.zeros((num_clips, NUM_ANNOTATORS))
    full[np.asarray(ids, dtype=np.int64)] = arr
    return full


def parse_submission(submission: Sequence[Dict[str, Any]],
                     ground_truth: Sequence[Dict[str, Any]],
                     pred_name: str = 'submission',
                     gt_name: str = 'ground truth',
                     with_hl: bool = True,
                     clip_len: float = HL_CLIP_LEN,
                     strict: bool = False) -> ParsedSubmission:
    """Validate a submission against its GT and parse it into arrays.

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
        ParsedSubmission: Arrays in submission order.
    """
    if len(submission) == 0:
        raise SubmissionError(f'{pred_name}: no prediction records')
    pred_qids = record_qids(submission, pred_name)
    gt_qids = record_qids(ground_truth, gt_name)
    check_unique(pred_qids, pred_name)
    check_unique(gt_qids, gt_name)
    check_same_qids(pred_qids, gt_qids, pred_name, gt_name)
    has_mr = _key_presence(submission, 'pred_relevant_windows', pred_name)
    has_hl = with_hl and _key_presence(submission, 'pred_saliency_scores',
                                       pred_name)
    if not has_mr and not has_hl:
        wanted = ("'pred_relevant_windows' or 'pred_saliency_scores'"
                  if with_hl else "'pred_relevant_windows'")
        raise SubmissionError(
            f'{pred_name}: the first record has no {wanted}; nothing to '
            'evaluate')
    gt_index = {q: i for i, q in enumerate(gt_qids)}
    parsed = ParsedSubmission(pred_qids, has_mr, has_hl)
    degenerate, first_degenerate, empty = 0, None, []
    for i, (qid, record) in enumerate(zip(pred_qids, submission)):
        where = describe(pred_name, i, record)
        gt_record = ground_truth[gt_index[qid]]
        gt_where = describe(gt_name, gt_index[qid], gt_record)
        if has_mr:
            windows = parse_windows(record['pred_relevant_windows'], where,
                                    'pred_relevant_windows', 3)
            bad = windows[:, 1] <= windows[:, 0]
            if bad.any():
                if first_degenerate is None:
                    first_degenerate = (qid, windows[bad][0].tolist())
                degenerate += int(bad.sum())
            if len(windows) == 0:
                empty.append(qid)
            gt_windows = parse_windows(
                require_key(gt_record, 'relevant_windows', gt_where,
                            'needed for the moment retrieval metrics'),
                gt_where, 'relevant_windows', 2)
            if len(gt_windows) == 0:
                raise SubmissionError(
                    f'{gt_where}: relevant_windows is empty; every query '
                    'needs a GT window for moment retrieval')
            if (gt_windows[:, 1] < gt_windows[:, 0]).any():
                raise SubmissionError(
                    f'{gt_where}: a relevant window has end < start: '
                    f'{gt_record["relevant_windows"]!r}'[:300])
            parsed.pred_windows.append(windows)
            parsed.gt_windows.append(gt_windows)
        if has_hl:
            parsed.pred_scores.append(
                parse_scores(record['pred_saliency_scores'], where,
                             'pred_saliency_scores'))
            parsed.gt_scores.append(_gt_saliency(gt_record, gt_where,
                                                 clip_len))
    if degenerate:
        qid, window = first_degenerate
        _warn_or_raise(
            f'{pred_name}: {degenerate} predicted window(s) have end <= '
            f'start (first: qid {qid!r}, {window}); their IoU is 0 (the '
            'official evaluator counts a reversed window as a true positive '
            'when its length equals a GT window\'s)', strict)
    if empty:
        _warn_or_raise(
            f'{pred_name}: {len(empty)} record(s) have no predicted window '
            f'(first: qid {empty[0]!r}); they score AP 0 and R1 0 (the '
            'official evaluator crashes)', strict)
    return parsed


def _warn_or_raise(msg: str, strict: bool) -> None:
    if strict:
        raise SubmissionError(msg + ' [strict]')
    warnings.warn(msg, SubmissionWarning, stacklevel=3)


def _bucket_sections(parsed: ParsedSubmission, variant: Variant,
                     empty_bucket: str) -> 'OrderedDict[str, dict]':
    masks = mr_bucket_masks(parsed.gt_windows, MR_BUCKETS)
    sections = OrderedDict()
    for name in MR_BUCKETS:
        keep = [q for q, m in enumerate(masks[name]) if m.any()]
        if not keep and empty_bucket == 'omit':
            continue
        if not keep and empty_bucket == 'zeros':
            sections[name] = empty_bucket_zeros()
            continue
        if not keep:  # 'full': evaluate the bucket on every query
            keep = list(range(len(parsed.qids)))
            gts = parsed.gt_windows
        else:
            gts = [parsed.gt_windows[q][masks[name][q]] for q in keep]
        preds = [parsed.pred_windows[q] for q in keep]
        ap = mr_average_precision(preds, gts, MR_MAP_THRESHOLDS)
        top1 = mr_top1_iou(preds, gts)
        sections[name] = mr_section(ap, top1, MR_MAP_THRESHOLDS,
                                    variant.r1_thresholds, variant.with_miou)
    return sections


def _hl_sections(parsed: ParsedSubmission) -> 'OrderedDict[str, dict]':
    per_level = hl_metrics(parsed.pred_scores, parsed.gt_scores)
    sections = OrderedDict()
    for name, _ in HL_LEVELS:
        res = per_level[name]
        sections[f'HL-min-{name}'] = {
            'HL-mAP': percent(np.mean(res['ap'])),
            'HL-Hit1': percent(np.mean(res['hit1'])),
        }
    return sections


def check_options(variant: str, empty_bucket: str) -> Variant:
    """Validate ``variant`` / ``empty_bucket`` and return the variant."""
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; choose from '
                         f'{sorted(VARIANTS)}')
    if empty_bucket not in EMPTY_BUCKET_MODES:
        raise ValueError(f'unknown empty_bucket {empty_bucket!r}; choose '
                         f'from {EMPTY_BUCKET_MODES}')
    return VARIANTS[variant]


def evaluate_qvhighlights(
        submission: Sequence[Dict[str, Any]],
        ground_truth: Sequence[Dict[str, Any]],
        variant: str = 'qvhighlights',
        empty_bucket: str = 'omit',
        strict: bool = False,
        clip_len: float = HL_CLIP_LEN,
        pred_name: str = 'submission',
        gt_name: str = 'ground truth') -> 'OrderedDict[str, object]':
    """Evaluate a submission exactly like the official evaluator.

    Args:
        submission (Sequence[dict]): Prediction records (``qid``,
            ``pred_relevant_windows`` and/or ``pred_saliency_scores``).
        ground_truth (Sequence[dict]): GT records with the same qids.
        variant (str): ``'qvhighlights'`` (moment_detr) or
            ``'charades_sta'`` (CG-DETR). Defaults to ``'qvhighlights'``.
        empty_bucket (str): A length bucket without GT windows is left out
            (``'omit'``), reported as CG-DETR's zero section (``'zeros'``)
            or evaluated on all queries like UniVTG (``'full'``).
            Defaults to ``'omit'``.
        strict (bool): Raise on windows with end <= start and on empty
            window lists instead of warning. Defaults to False.
        clip_len (float): HL clip length in seconds. Defaults to 2.
        pred_name (str): Submission name for messages.
        gt_name (str): GT name for messages.

    Returns:
        OrderedDict: ``brief`` and the sections in the official layout.
    """
    var = check_options(variant, empty_bucket)
    parsed = parse_submission(submission, ground_truth, pred_name, gt_name,
                              var.with_hl, clip_len, strict)
    mr = _bucket_sections(parsed, var, empty_bucket) if parsed.has_mr else None
    hl = _hl_sections(parsed) if parsed.has_hl else None
    return assemble_results(mr, hl, var.brief_r1, var.with_miou)
