# Copyright (c) mmmrhd contributors. All rights reserved.
"""Benchmark ``tools/eval_preds.py``: wall clock vs the official evaluator,
and peak memory on a large generated submission.

Example::

    # official evaluator: a moment_detr checkout (the folder holding
    # standalone_eval/) and a python with numpy + scikit-learn
    MMMRHD_OFFICIAL_EVAL=/path/to/moment_detr \
    MMMRHD_OFFICIAL_EVAL_PYTHON=/path/to/venv/bin/python \
    python tools/analysis_tools/benchmark_metric.py

Every timing is the wall clock of a fresh process (interpreter start-up,
imports, reading the files, evaluating, writing the metrics JSON), run one
after the other in this one invocation; the ratio is official / ours of the
medians. Peak memory is the ``ru_maxrss`` of the evaluating process
(``os.wait4``). Without the official evaluator only our numbers are printed.
Defaults: the shared QVHighlights val GT and official sample predictions
(``$MMMRHD_SHARED`` or ``../shared`` next to the repository).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = os.environ.get('MMMRHD_SHARED',
                        osp.join(osp.dirname(REPO_ROOT), 'shared'))
QVH = osp.join(SHARED, 'data', 'qvhighlights')
EVAL_PREDS = osp.join(REPO_ROOT, 'tools', 'eval_preds.py')
OFFICIAL_ENV = 'MMMRHD_OFFICIAL_EVAL'
OFFICIAL_PYTHON_ENV = 'MMMRHD_OFFICIAL_EVAL_PYTHON'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark tools/eval_preds.py (speed vs the official '
        'evaluator, peak memory).')
    parser.add_argument(
        '--gt',
        default=osp.join(QVH, 'highlight_val_release.jsonl'),
        help='ground-truth jsonl (default: shared QVHighlights val)')
    parser.add_argument(
        '--pred',
        default=osp.join(QVH, 'eval_sample', 'sample_val_preds.jsonl'),
        help='prediction jsonl (default: the official sample)')
    parser.add_argument('--repeat',
                        type=int,
                        default=5,
                        help='timed runs of our CLI (default 5)')
    parser.add_argument('--official-repeat',
                        type=int,
                        default=3,
                        help='timed runs of the official CLI (default 3)')
    parser.add_argument(
        '--official-root',
        default=os.environ.get(OFFICIAL_ENV),
        help='folder holding standalone_eval/eval.py of jayleicn/'
        f'moment_detr (default: ${OFFICIAL_ENV}); skipped if unset')
    parser.add_argument(
        '--official-python',
        default=os.environ.get(OFFICIAL_PYTHON_ENV, sys.executable),
        help='python with numpy + scikit-learn for the official evaluator '
        f'(default: ${OFFICIAL_PYTHON_ENV} or this python)')
    parser.add_argument(
        '--records',
        type=int,
        default=100000,
        help='records of the generated submission for the memory run '
        '(default 100000; 0 skips it)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def run_timed(cmd: List[str],
              env: Optional[Dict[str, str]] = None,
              cwd: Optional[str] = None) -> Tuple[float, int, str]:
    """Run ``cmd``; return its wall time (s), peak RSS (KB) and stderr."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd,
                                stdout=subprocess.DEVNULL,
                                stderr=err,
                                env=env,
                                cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors='replace')
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}):\n'
                           f'{stderr[-2000:]}')
    # ru_maxrss is in KB on Linux.
    return wall, int(usage.ru_maxrss), stderr


def ours_cmd(pred: str, gt: str, out: str) -> List[str]:
    return [sys.executable, EVAL_PREDS, pred, gt, '--out', out]


def official_cmd(python: str, root: str, pred: str, gt: str,
                 out: str) -> List[str]:
    return [
        python,
        osp.join(root, 'standalone_eval', 'eval.py'), '--submission_path',
        pred, '--gt_path', gt, '--save_path', out, '--not_verbose'
    ]


def _env_with_path(path: str) -> Dict[str, str]:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (path, env.get('PYTHONPATH')) if p)
    return env


def _summary(times: List[float]) -> str:
    return (f'median {statistics.median(times):.3f} s (min {min(times):.3f}'
            f', n={len(times)})')


def speed(args: argparse.Namespace, work: str) -> None:
    """Our CLI vs the official one on the same files, one after the other."""
    ours_out = osp.join(work, 'ours.json')
    official = args.official_root
    if official and not osp.isfile(
            osp.join(official, 'standalone_eval', 'eval.py')):
        raise SystemExit(f'error: {official}/standalone_eval/eval.py not '
                         'found (--official-root / $' + OFFICIAL_ENV + ')')
    ours_t, off_t, ours_rss, off_rss = [], [], 0, 0
    rounds = max(args.repeat, args.official_repeat if official else 0)
    env = _env_with_path(REPO_ROOT)
    for i in range(rounds):  # interleaved: both see the same machine load
        if i < args.repeat:
            wall, rss, _ = run_timed(ours_cmd(args.pred, args.gt, ours_out),
                                     env)
            ours_t.append(wall)
            ours_rss = max(ours_rss, rss)
        if official and i < args.official_repeat:
            wall, rss, _ = run_timed(
                official_cmd(args.official_python, official, args.pred,
                             args.gt, osp.join(work, 'official.json')),
                _env_with_path(official), official)
            off_t.append(wall)
            off_rss = max(off_rss, rss)
    with open(args.gt) as f:
        num = sum(1 for line in f if line.strip())
    print(f'submission: {args.pred}\nground truth: {args.gt} ({num} '
          'queries)')
    print(f'ours     tools/eval_preds.py: {_summary(ours_t)}, peak '
          f'{ours_rss / 1024:.0f} MB')
    if not official:
        print(f'official evaluator: not run (set ${OFFICIAL_ENV} or '
              '--official-root)')
        return
    print(f'official standalone_eval/eval.py: {_summary(off_t)}, peak '
          f'{off_rss / 1024:.0f} MB (main process)')
    ratio = statistics.median(off_t) / statistics.median(ours_t)
    print(f'speed ratio official / ours: x{ratio:.1f} (target >= x20)')
    with open(ours_out) as f1, open(osp.join(work, 'official.json')) as f2:
        same = f1.read() == f2.read()
    print(f'identical metrics JSON: {same}')


def generate(gt_src: str, num: int, work: str, seed: int) -> Tuple[str, str]:
    """Write a ``num``-record GT (val records cycled, new qids) and a
    submission with 10 windows and one saliency score per clip each."""
    rng = np.random.default_rng(seed)
    with open(gt_src) as f:
        base = [json.loads(line) for line in f if line.strip()]
    gt_path = osp.join(work, f'gt_{num}.jsonl')
    pred_path = osp.join(work, f'pred_{num}.jsonl')
    with open(gt_path, 'w') as fg, open(pred_path, 'w') as fp:
        for i in range(num):
            g = dict(base[i % len(base)], qid=i)
            fg.write(json.dumps(g) + '\n')
            dur = g['duration']
            st = rng.integers(0, dur // 2, 10) * 2.
            ed = np.minimum(st + rng.choice([2, 4, 10, 20, 40], 10), dur)
            score = np.round(rng.random(10), 4)
            windows = np.stack([st, ed, score], 1)[np.argsort(-score)]
            sal = rng.standard_normal(int(dur / 2)).astype(np.float16)
            fp.write(
                json.dumps(
                    dict(qid=i,
                         query=g.get('query', ''),
                         vid=g.get('vid', ''),
                         pred_relevant_windows=windows.tolist(),
                         pred_saliency_scores=sal.astype(float).tolist())) +
                '\n')
    return pred_path, gt_path


def memory(args: argparse.Namespace, work: str) -> None:
    """Peak memory of our CLI on a generated ``--records`` submission."""
    start = time.perf_counter()
    pred, gt = generate(args.gt, args.records, work, args.seed)
    size = (os.path.getsize(pred) + os.path.getsize(gt)) / 2**20
    print(f'generated {args.records} records ({size:.0f} MB of jsonl) in '
          f'{time.perf_counter() - start:.1f} s')
    wall, rss, _ = run_timed(ours_cmd(pred, gt, osp.join(work, 'big.json')),
                             _env_with_path(REPO_ROOT))
    print(f'ours on {args.records} records: {wall:.2f} s, peak memory '
          f'(maxrss) {rss / 1024:.0f} MB (target < 500 MB), '
          f'{rss / args.records:.2f} KB per record')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='mmmrhd_bench_') as work:
        speed(args, work)
        if args.records > 0:
            memory(args, work)


if __name__ == '__main__':
    main()
