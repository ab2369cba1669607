# Copyright (c) mmmrhd contributors. All rights reserved.
"""Time the vectorised QVHighlights metric against the loop reference.

Example::

    python tools/analysis_tools/benchmark_metric.py --repeat 5

Defaults: the shared val GT and the two official sample prediction files
(``$MMMRHD_SHARED`` or ``../shared`` next to the repository). Times cover
validation + computation from in-memory records (JSON loading is reported
separately) and check that both implementations give identical results.
"""
import argparse
import os
import os.path as osp
import statistics
import time
import warnings
from typing import Callable, List, Optional, Tuple

from mmmrhd.evaluation.functional import (evaluate_qvhighlights, load_jsonl,
                                          reference_evaluate_qvhighlights)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = os.environ.get('MMMRHD_SHARED',
                        osp.join(osp.dirname(REPO_ROOT), 'shared'))
QVH = osp.join(SHARED, 'data', 'qvhighlights')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the QVHighlights metric.')
    parser.add_argument(
        '--gt',
        default=osp.join(QVH, 'highlight_val_release.jsonl'),
        help='ground-truth jsonl (default: shared QVHighlights val)')
    parser.add_argument(
        '--pred',
        nargs='+',
        default=[
            osp.join(QVH, 'eval_sample', 'sample_val_preds.jsonl'),
            osp.join(QVH, 'eval_sample', 'ckpt_val_preds.jsonl')
        ],
        help='prediction jsonl file(s) (default: the two official samples)')
    parser.add_argument('--repeat',
                        type=int,
                        default=5,
                        help='timed runs of ours')
    parser.add_argument('--ref-repeat',
                        type=int,
                        default=1,
                        help='timed runs of the loop reference')
    return parser.parse_args(argv)


def timed(fn: Callable[[], object], repeat: int) -> Tuple[object, List[float]]:
    """Run ``fn`` ``repeat`` times; return its last result and the times."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    gt = load_jsonl(args.gt)
    print(f'GT: {args.gt} ({len(gt)} queries, loaded in '
          f'{time.perf_counter() - start:.3f} s)')
    for path in args.pred:
        start = time.perf_counter()
        sub = load_jsonl(path)
        load_s = time.perf_counter() - start
        with warnings.catch_warnings():
            # Benchmark only: both implementations warn alike.
            warnings.simplefilter('ignore')
            ours, ours_t = timed(lambda: evaluate_qvhighlights(sub, gt),
                                 args.repeat)
            ref, ref_t = timed(
                lambda: reference_evaluate_qvhighlights(sub, gt),
                args.ref_repeat)
        ours_med = statistics.median(ours_t)
        ref_med = statistics.median(ref_t)
        print(f'{osp.basename(path)}: load {load_s:.3f} s | ours median '
              f'{ours_med:.3f} s (min {min(ours_t):.3f}, n={args.repeat}) | '
              f'reference median {ref_med:.3f} s (n={args.ref_repeat}) | '
              f'speed-up x{ref_med / ours_med:.1f} | identical results: '
              f'{ours == ref and list(ours) == list(ref)}')


if __name__ == '__main__':
    main()
