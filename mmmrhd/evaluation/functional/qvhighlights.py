# Copyright (c) mmmrhd contributors. All rights reserved.
"""QVHighlights / Charades-STA evaluation with the official output layout.

:func:`evaluate_qvhighlights` reproduces jayleicn/moment_detr
``standalone_eval/eval.py eval_submission`` (``variant='qvhighlights'``),
the Charades-STA variant of wjun0830/CGDETR ``standalone_eval/eval.py``
(``variant='charades_sta'``: R1 at 0.3:0.05:0.95 and ``MR-mIoU``, no
highlight metrics) and dpaul06/VideoLights ``standalone_eval/eval.py``
(``variant='videolights'``: the same MR additions, with highlight metrics).
:func:`evaluate_qvhighlights_files` does the same on two
jsonl files, streaming them (bounded memory; what ``tools/eval_preds.py``
runs). Bad submissions raise a one-line
:class:`~.submission.SubmissionError`; see ``docs/en/user_guides/metrics.md``
for the rules that differ from the official code.
"""
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Sequence

import numpy as np

from .formatting import (assemble_results, empty_bucket_zeros, mr_section,
                         percent)
from .highlight import HL_CLIP_LEN, HL_LEVELS, hl_metrics_flat
from .moment_retrieval import (CHARADES_R1_THRESHOLDS, MR_MAP_THRESHOLDS,
                               QVH_R1_THRESHOLDS, bucket_mask,
                               mr_average_precision_flat, mr_top1_iou_flat)
from .parsing import (ParsedSubmission, parse_submission,
                      parse_submission_files)
from .ragged import ragged_take

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
    # dpaul06/VideoLights standalone_eval/eval.py: moment_detr's evaluator
    # with CG-DETR's R1 thresholds and MR-mIoU (brief R1@0.3/0.5/0.7 +
    # MR-full-mIoU) and the highlight metrics.
    'videolights':
    Variant('videolights', CHARADES_R1_THRESHOLDS, (0.3, 0.5, 0.7), True,
            True),
}
#: How to report a length bucket without any GT window.
EMPTY_BUCKET_MODES = ('omit', 'zeros', 'full')


def _bucket_sections(parsed: ParsedSubmission, variant: Variant,
                     empty_bucket: str) -> 'OrderedDict[str, dict]':
    pred, pred_counts = parsed.pred_windows_flat, parsed.pred_window_counts
    gt, gt_counts = parsed.gt_windows_flat, parsed.gt_window_counts
    num_q = len(parsed.qids)
    query_of = np.repeat(np.arange(num_q), gt_counts)
    sections = OrderedDict()
    for name, bounds in MR_BUCKETS.items():
        mask = bucket_mask(gt, bounds)
        counts = np.bincount(query_of[mask], minlength=num_q)
        keep = np.flatnonzero(counts)
        if keep.size == 0 and empty_bucket == 'omit':
            continue
        if keep.size == 0 and empty_bucket == 'zeros':
            sections[name] = empty_bucket_zeros()
            continue
        if keep.size in (0, num_q):
            # Every query (full, or 'full' mode for an empty bucket): the
            # GT windows of each query are all kept or all in the bucket.
            b_pred, b_pred_counts = pred, pred_counts
            b_gt, b_gt_counts = (gt, gt_counts) if keep.size == 0 else (
                gt[mask], counts)
        else:
            # Queries left without GT windows are dropped; predictions are
            # not filtered.
            b_pred, b_pred_counts = ragged_take(pred, pred_counts, keep)
            b_gt, b_gt_counts = gt[mask], counts[keep]
        ap = mr_average_precision_flat(b_pred, b_pred_counts, b_gt,
                                       b_gt_counts, MR_MAP_THRESHOLDS)
        top1 = mr_top1_iou_flat(b_pred, b_pred_counts, b_gt, b_gt_counts)
        sections[name] = mr_section(ap, top1, MR_MAP_THRESHOLDS,
                                    variant.r1_thresholds, variant.with_miou)
    return sections


def _hl_sections(parsed: ParsedSubmission) -> 'OrderedDict[str, dict]':
    per_level = hl_metrics_flat(parsed.pred_scores_flat,
                                parsed.pred_score_counts,
                                parsed.gt_scores_flat, parsed.gt_clip_counts)
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
        variant (str): ``'qvhighlights'`` (moment_detr),
            ``'charades_sta'`` (CG-DETR) or ``'videolights'``
            (dpaul06/VideoLights: moment_detr's plus R1@0.3 and
            ``MR-mIoU``). Defaults to ``'qvhighlights'``.
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
    return evaluate_parsed(parsed, variant, empty_bucket)


def evaluate_qvhighlights_files(pred_path: str,
                                gt_path: str,
                                variant: str = 'qvhighlights',
                                empty_bucket: str = 'omit',
                                strict: bool = False,
                                clip_len: float = HL_CLIP_LEN
                                ) -> 'OrderedDict[str, object]':
    """:func:`evaluate_qvhighlights` on two jsonl files, streamed.

    Memory stays proportional to the numbers in the files (about 0.3 KB per
    QVHighlights record), not to their Python objects; errors name the file
    and line.

    Args:
        pred_path (str): Submission jsonl.
        gt_path (str): GT jsonl.
        variant (str): See :func:`evaluate_qvhighlights`.
        empty_bucket (str): See :func:`evaluate_qvhighlights`.
        strict (bool): See :func:`evaluate_qvhighlights`.
        clip_len (float): HL clip length in seconds. Defaults to 2.

    Returns:
        OrderedDict: ``brief`` and the sections in the official layout.
    """
    var = check_options(variant, empty_bucket)
    parsed = parse_submission_files(pred_path, gt_path, var.with_hl,
                                    clip_len, strict)
    return evaluate_parsed(parsed, variant, empty_bucket)


def evaluate_parsed(parsed: ParsedSubmission,
                    variant: str = 'qvhighlights',
                    empty_bucket: str = 'omit') -> 'OrderedDict[str, object]':
    """Compute the official results of a :class:`ParsedSubmission`."""
    var = check_options(variant, empty_bucket)
    mr = _bucket_sections(parsed, var, empty_bucket) if parsed.has_mr else None
    hl = _hl_sections(parsed) if parsed.has_hl else None
    return assemble_results(mr, hl, var.brief_r1, var.with_miou)
