# Copyright (c) mmmrhd contributors. All rights reserved.
"""Evaluate a prediction jsonl like the official evaluators.

Examples::

    python tools/eval_preds.py hl_val_submission.jsonl \
        data/qvhighlights/highlight_val_release.jsonl --out metrics.json
    python tools/eval_preds.py preds.jsonl \
        data/charades_sta/charades_sta_test_tvr_format.jsonl \
        --dataset charades_sta
    python tools/eval_preds.py preds.jsonl data/tvsum/tvsum_val.jsonl \
        --dataset tvsum

Prints the brief metrics as a table; ``--out`` writes the nested JSON in the
official layout (``json.dumps(results, indent=4)``). A bad submission exits
with status 1 and a one-line ``error: ...`` on stderr.
"""
import argparse
import json
import sys
import warnings
from typing import List, Optional

from mmmrhd.evaluation.functional import (SubmissionError, brief_table,
                                          evaluate_qvhighlights,
                                          evaluate_tvsum, load_jsonl)

TITLES = dict(qvhighlights='QVHighlights',
              charades_sta='Charades-STA',
              tvsum='TVSum')
DEFAULT_EMPTY_BUCKET = dict(qvhighlights='omit', charades_sta='zeros')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate MR/HD predictions (official metrics).')
    parser.add_argument('pred', help='prediction (submission) jsonl')
    parser.add_argument('gt', help='ground-truth jsonl')
    parser.add_argument('--dataset',
                        choices=sorted(TITLES),
                        default='qvhighlights',
                        help='evaluation protocol (default: qvhighlights)')
    parser.add_argument('--out',
                        help='write the nested metrics JSON to this path')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='fail on windows with end <= start, empty window lists and '
        'short TVSum score lists instead of warning')
    parser.add_argument(
        '--empty-bucket',
        choices=['omit', 'zeros', 'full'],
        help='report of a length bucket without GT windows: omit it, '
        'CG-DETR zeros, or UniVTG full set (default: omit for '
        'qvhighlights, zeros for charades_sta)')
    return parser.parse_args(argv)


def evaluate(args: argparse.Namespace):
    """Load the files and run the chosen protocol."""
    submission = load_jsonl(args.pred)
    ground_truth = load_jsonl(args.gt)
    if args.dataset == 'tvsum':
        return evaluate_tvsum(submission,
                              ground_truth,
                              strict=args.strict,
                              pred_name=args.pred,
                              gt_name=args.gt)
    if (args.dataset == 'charades_sta' and submission
            and 'pred_saliency_scores' in submission[0]):
        print(
            'note: pred_saliency_scores are ignored (Charades-STA has no '
            'saliency ground truth)',
            file=sys.stderr)
    return evaluate_qvhighlights(submission,
                                 ground_truth,
                                 variant=args.dataset,
                                 empty_bucket=args.empty_bucket
                                 or DEFAULT_EMPTY_BUCKET[args.dataset],
                                 strict=args.strict,
                                 pred_name=args.pred,
                                 gt_name=args.gt)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            results = evaluate(args)
    except (SubmissionError, FileNotFoundError, KeyError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for w in caught:
        print(f'warning: {w.message}', file=sys.stderr)
    print(brief_table(results['brief'], TITLES[args.dataset]))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(json.dumps(results, indent=4))
        print(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
