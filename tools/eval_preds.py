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
official layout (``json.dumps(results, indent=4)``). A bad submission or GT
file exits with status 2 and one ``error: ...`` line on stderr naming the
file, line and field (``--debug`` or ``MMMRHD_DEBUG=1`` shows the
traceback).

The tool needs only numpy (and terminaltables): it imports
``mmmrhd.evaluation.functional`` without running ``mmmrhd/__init__.py``,
which imports torch and mmengine for the safe checkpoint loaders (about 1.8
s of start-up, more than the whole evaluation). See :func:`load_functional`.
"""
import argparse
import importlib
import importlib.util
import json
import os
import os.path as osp
import sys
import types
import warnings
from typing import List, Optional, Tuple

TITLES = dict(qvhighlights='QVHighlights',
              charades_sta='Charades-STA',
              videolights='QVHighlights (VideoLights)',
              tvsum='TVSum')
# VideoLights' eval.py fills an empty bucket with CG-DETR's zero section.
DEFAULT_EMPTY_BUCKET = dict(qvhighlights='omit', charades_sta='zeros',
                            videolights='zeros')
DEBUG_ENV = 'MMMRHD_DEBUG'


def load_functional() -> Tuple[types.ModuleType, types.ModuleType]:
    """Import ``mmmrhd.evaluation.functional`` and ``mmmrhd.utils.errors``
    without executing the ``mmmrhd``, ``mmmrhd.evaluation`` and
    ``mmmrhd.utils`` package ``__init__`` files.

    Those import torch/mmengine (checkpoint loaders, registries), which the
    evaluation never uses. The parent packages are stood in for by bare
    package modules during the import and removed afterwards, so a later
    ``import mmmrhd`` in the same process runs the real ``__init__`` (and
    registers the safe checkpoint loaders) as usual. If ``mmmrhd`` is
    already imported, the normal import is used.

    Returns:
        tuple: The ``functional`` and ``errors`` modules.
    """
    names = ('mmmrhd', 'mmmrhd.evaluation', 'mmmrhd.utils')
    if 'mmmrhd' in sys.modules:
        return (importlib.import_module('mmmrhd.evaluation.functional'),
                importlib.import_module('mmmrhd.utils.errors'))
    spec = importlib.util.find_spec('mmmrhd')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('mmmrhd is not installed; run `pip install -e .` '
                          'or set PYTHONPATH to the repository root')
    root = list(spec.submodule_search_locations)[0]
    for name in names:
        stub = types.ModuleType(name)
        stub.__path__ = [osp.join(root, *name.split('.')[1:])]
        sys.modules[name] = stub
    try:
        return (importlib.import_module('mmmrhd.evaluation.functional'),
                importlib.import_module('mmmrhd.utils.errors'))
    finally:
        for name in names:
            del sys.modules[name]


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
        'qvhighlights, zeros for charades_sta and videolights)')
    parser.add_argument(
        '--debug',
        action='store_true',
        help=f'show the traceback of input errors (or set {DEBUG_ENV}=1)')
    return parser.parse_args(argv)


def evaluate(args: argparse.Namespace, functional: types.ModuleType):
    """Run the chosen protocol on the two files."""
    if args.dataset == 'tvsum':  # 50 videos: small files
        return functional.evaluate_tvsum(functional.load_jsonl(args.pred),
                                         functional.load_jsonl(args.gt),
                                         strict=args.strict,
                                         pred_name=args.pred,
                                         gt_name=args.gt)
    return functional.evaluate_qvhighlights_files(
        args.pred,
        args.gt,
        variant=args.dataset,
        empty_bucket=args.empty_bucket or DEFAULT_EMPTY_BUCKET[args.dataset],
        strict=args.strict)


def _first_record_has_saliency(path: str) -> bool:
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    return 'pred_saliency_scores' in json.loads(line)
    except (OSError, ValueError):
        pass  # reported by the evaluation itself
    return False


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    debug = args.debug or os.environ.get(DEBUG_ENV, '') not in ('', '0')
    functional, errors = load_functional()
    if (args.dataset == 'charades_sta'
            and _first_record_has_saliency(args.pred)):
        print(
            'note: pred_saliency_scores are ignored (Charades-STA has no '
            'saliency ground truth)',
            file=sys.stderr)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            results = evaluate(args, functional)
    except (errors.UserError, OSError) as e:
        if debug:
            raise
        print(f'error: {e}', file=sys.stderr)
        return 2
    for w in caught:
        print(f'warning: {w.message}', file=sys.stderr)
    decimals = functional.formatting.TABLE_DECIMALS[
        'tvsum' if args.dataset == 'tvsum' else 'percent']
    print(functional.brief_table(results['brief'], TITLES[args.dataset],
                                 decimals))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(json.dumps(results, indent=4))
        print(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
