# Copyright (c) mmmrhd contributors. All rights reserved.
"""TVSum top-5 mAP (TencentARC/UMT ``datasets/tvsum.py`` ``evaluate``; the
same loop is in QD-DETR / CG-DETR ``inference.py compute_hl_results``).

Tie handling: the official code ranks clips with ``torch.argsort(...,
descending=True)``, which is not stable, so the order of tied predictions is
implementation-defined. We use a stable descending order: among tied scores
the earlier clip ranks first.
"""
import warnings
from collections import OrderedDict
from typing import Any, Dict, Sequence

import numpy as np

from .submission import (SubmissionError, SubmissionWarning, check_unique,
                         describe, parse_scores, parse_windows, record_qids,
                         require_key, type_clash_hint)

#: Clips kept from the ranking (UMT ``evaluate(k=5)``; CG-DETR ``topk = 5``).
TVSUM_TOP_K = 5


def tvsum_top5_ap(pred_scores: np.ndarray,
                  labels: np.ndarray,
                  top_k: int = TVSUM_TOP_K) -> np.ndarray:
    """Top-k AP of one video for each annotator.

    For annotator ``i`` a clip is positive iff ``labels[:, i]`` is greater
    than the lower median of that column (``torch.median``). Predictions are
    truncated to the number of labelled clips; the top-``k`` clips by
    prediction are kept and scored with the trapezoidal AP over ranks
    ``1..k``, where recall is relative to the positives AMONG THOSE ``k``
    (``num_gt``); AP is 0 if none of them is positive.

    Args:
        pred_scores (np.ndarray): ``(n,)`` predicted saliency. If ``n`` is
            smaller than the number of clips only the first ``n`` clips can
            be ranked, as in QD-DETR/CG-DETR (``pred[:len(label)]``).
        labels (np.ndarray): ``(C, A)`` annotator scores (TVSum: A = 20).
        top_k (int): Clips kept. Defaults to 5.

    Returns:
        np.ndarray: ``(A,)`` float64 AP per annotator.
    """
    labels = np.asarray(labels, dtype=np.float64)
    num_clips = labels.shape[0]
    pred = np.asarray(pred_scores, dtype=np.float64)[:num_clips]
    # torch.median returns the lower of the two middle values.
    lower_median = np.sort(labels, axis=0)[(num_clips - 1) // 2]
    positive = (labels > lower_median).astype(np.float64)  # (C, A)
    top = np.argsort(-pred, kind='stable')[:top_k]
    gt = positive[top]  # (k', A)
    num_gt = gt.sum(axis=0)
    hits = np.cumsum(gt, axis=0)
    ap = np.zeros(labels.shape[1])
    rec = np.zeros(labels.shape[1])
    prc = np.ones(labels.shape[1])
    safe_num_gt = np.where(num_gt > 0, num_gt, 1.)
    # Same operation order as the official Python loop:
    # ap += (_rec - rec) * (prc + _prc) / 2
    for j in range(gt.shape[0]):
        _rec = hits[j] / safe_num_gt
        _prc = hits[j] / (j + 1)
        ap += (_rec - rec) * (prc + _prc) / 2
        rec, prc = _rec, _prc
    return np.where(num_gt > 0, ap, 0.)


def tvsum_domain_map(pred_scores: Sequence[np.ndarray],
                     labels: Sequence[np.ndarray],
                     top_k: int = TVSUM_TOP_K) -> float:
    """Unrounded mAP of one domain: mean over videos x annotators.

    QD-DETR/CG-DETR ``np.mean(video_ap_collected)`` over the (videos, A)
    matrix (UMT averages per annotator first; equal up to the last bits).

    Args:
        pred_scores (Sequence[np.ndarray]): Per video ``(n_v,)``.
        labels (Sequence[np.ndarray]): Per video ``(C_v, A)``.
        top_k (int): Clips kept. Defaults to 5.

    Returns:
        float: The domain mAP as a fraction.
    """
    aps = [tvsum_top5_ap(p, y, top_k) for p, y in zip(pred_scores, labels)]
    return float(np.mean(np.stack(aps)))


def evaluate_tvsum(
        submission: Sequence[Dict[str, Any]],
        ground_truth: Sequence[Dict[str, Any]],
        strict: bool = False,
        top_k: int = TVSUM_TOP_K,
        pred_name: str = 'submission',
        gt_name: str = 'ground truth') -> 'OrderedDict[str, object]':
    """Per-domain TVSum top-5 mAP of a submission.

    The evaluated domains are those of the predicted videos; every GT video
    of such a domain must be predicted (the official setting trains and
    evaluates one model per domain, so a submission may cover one domain or
    several).

    Args:
        submission (Sequence[dict]): Records with ``qid`` and
            ``pred_saliency_scores`` (one score per clip).
        ground_truth (Sequence[dict]): TVSum records with ``qid``,
            ``domain`` and ``label`` (clips x annotators).
        strict (bool): Raise instead of warning when a video has fewer
            scores than labelled clips. Defaults to False.
        top_k (int): Clips kept from the ranking. Defaults to 5.
        pred_name (str): Submission name for messages.
        gt_name (str): GT name for messages.

    Returns:
        OrderedDict: ``{'brief': {'<domain>-mAP': ..., 'mAP': ...}}`` with
        keys sorted; fractions rounded to 5 decimals like the official
        ``round(mAP, 5)``; ``mAP`` is the mean of the unrounded domain mAPs.
    """
    if len(submission) == 0:
        raise SubmissionError(f'{pred_name}: no prediction records')
    pred_qids = record_qids(submission, pred_name)
    gt_qids = record_qids(ground_truth, gt_name)
    check_unique(pred_qids, pred_name)
    check_unique(gt_qids, gt_name)
    gt_index = {q: i for i, q in enumerate(gt_qids)}
    extra = [q for q in pred_qids if q not in gt_index]
    if extra:
        raise SubmissionError(
            f'{len(extra)} qid(s) of {pred_name} not in {gt_name} '
            f'({", ".join(repr(q) for q in extra[:3])})' +
            type_clash_hint(extra, gt_qids, pred_name, gt_name))
    domains = {}
    for qid in gt_qids:
        record = ground_truth[gt_index[qid]]
        domain = require_key(record, 'domain',
                             describe(gt_name, gt_index[qid], record))
        domains[qid] = domain
    evaluated = {domains[q] for q in pred_qids}
    predicted = set(pred_qids)
    missing = [
        q for q in gt_qids if domains[q] in evaluated and q not in predicted
    ]
    if missing:
        raise SubmissionError(
            f'{len(missing)} video(s) of the evaluated domain(s) missing '
            f'from {pred_name} ({", ".join(repr(q) for q in missing[:3])}); '
            'a domain is evaluated on all of its videos')
    per_domain = {d: ([], []) for d in sorted(evaluated)}
    short = []
    for i, (qid, record) in enumerate(zip(pred_qids, submission)):
        where = describe(pred_name, i, record)
        scores = parse_scores(
            require_key(record, 'pred_saliency_scores', where), where,
            'pred_saliency_scores')
        gt_record = ground_truth[gt_index[qid]]
        gt_where = describe(gt_name, gt_index[qid], gt_record)
        label = require_key(gt_record, 'label', gt_where)
        if not isinstance(label, list) or not label or not isinstance(
                label[0], list) or not label[0]:
            raise SubmissionError(
                f'{gt_where}: "label" must be a non-empty list of '
                'per-clip annotator score lists')
        labels = parse_windows(label, gt_where, 'label', len(label[0]),
                               f'{len(label[0])} annotator scores')
        if len(scores) < len(labels):
            short.append((qid, len(scores), len(labels)))
        per_domain[domains[qid]][0].append(scores)
        per_domain[domains[qid]][1].append(labels)
    if short:
        qid, n, c = short[0]
        msg = (f'{pred_name}: {len(short)} video(s) have fewer saliency '
               f'scores than labelled clips (first: qid {qid!r}, {n} < {c}); '
               'only the scored clips are ranked, as in QD-DETR/CG-DETR')
        if strict:
            raise SubmissionError(msg + ' [strict]')
        warnings.warn(msg, SubmissionWarning, stacklevel=2)
    maps = {
        d: tvsum_domain_map(preds, labels, top_k)
        for d, (preds, labels) in per_domain.items()
    }
    brief = {f'{d}-mAP': float(round(m, 5)) for d, m in maps.items()}
    brief['mAP'] = float(round(float(np.mean(list(maps.values()))), 5))
    return OrderedDict(brief=OrderedDict(sorted(brief.items())))
