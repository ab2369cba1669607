# Copyright (c) mmmrhd contributors. All rights reserved.
"""Time a model's training step and inference forward (samples/s).

Usage::

    python tools/analysis_tools/benchmark_model.py CONFIG \\
        [--batch-size 32] [--num-clips 75] [--video-dim 2818] \\
        [--text-dim 512] [--steps 8] [--warmup 2] [--feedback both] \\
        [--repeat 1] [--device cpu] [--official-root PATH] \\
        [--profile N] [--roofline] [--cfg-options KEY=VALUE ...]

The method is the one of the official speed anchor
(``shared/research/official_speed.md``): one fixed batch (fixed seed) of
``B`` samples, ``B - 6`` videos of ``L`` clips and 6 shorter ones, text
lengths 8..32, 1/2/3 ground-truth windows of up to 12 clips; features are
random, L2-normalised per stream, with the two temporal-endpoint (TEF)
columns. A **train step** is forward -> criteria -> the model's training
total -> ``zero_grad`` -> ``backward`` -> ``clip_grad_norm_(0.1)`` ->
optimizer step (ours: the config's ``optim_wrapper.optimizer``, e.g. fused
AdamW; official: ``AdamW(lr=1e-4, weight_decay=1e-4)``) -> ``float(loss)``,
on the same
batch every step (weights change); ``warmup`` untimed steps, then ``steps``
timed ones. **Inference** is ``eval()`` + ``no_grad`` forward only (no
post-processing, no matcher): ``warmup`` untimed, then ``--infer-steps``
timed passes. Rows: train with the model's feedback off and on (models with
a ``FeedbackHead``, i.e. a ``feedback_active`` switch; otherwise one train
row) and inference
(feedback on). ``--repeat N`` runs everything N times, interleaved, and
reports medians.

The ratio column compares with the official implementation:

* ``--official-root PATH`` (a checkout of the official repository:
  EdenGabriel/TaskWeave, wjun0830/QD-DETR, mingyao1120/TR-DETR,
  jayleicn/moment_detr or dpaul06/VideoLights): its model and criterion
  are built with the official QVHighlights script options, the same batch
  is fed in its input layout and timed in the same run (TaskWeave feedback
  off/on = ``epoch_i`` 50/150, inference ``epoch_i=None``; VideoLights'
  criterion at ``epoch_i=9``). Only models with an entry in ``OFFICIAL_ADAPTERS``
  support this.
* otherwise the anchor numbers of ``official_speed.md`` are used, measured
  with the official code on this machine kind (2-core CPU); they only apply
  to the default shapes.

``--roofline`` counts the FLOPs of one more step of each row and runner and
measures the machine's matrix-product peak; ``B / (FLOPs / peak)`` is a
bound no implementation of that work beats here, and its ratio to the
official samples/s is the best speed-up reachable without doing less work.

samples/s = ``B`` / the median seconds of the timed steps of a row (over
all repeats). With ``--official-root`` ours and the official code run
interleaved step by step (who goes first alternates), so load from other
processes hits both alike.
"""
import argparse
import datetime
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

# The speed-benchmark parts live in mmmrhd.testing.speed; they are
# re-exported here so ``benchmark_model.<name>`` keeps working.
from mmmrhd.testing.speed import *  # noqa: F401,F403
from mmmrhd.testing.speed import (OFFICIAL_ADAPTERS, Runner, _row_step, _to,
                                  build_model, make_batch, roofline)
from mmmrhd.utils import register_all_modules

#: Official anchor (official_speed.md, TaskWeave HD2MR, B=32, L=75, video
#: 2818, text 512): samples/s of train feedback off (epoch_i=50), on
#: (epoch_i=150) and inference (epoch_i=None; best of its two runs).
ANCHORS = {'TaskWeave': {'train_off': 11.3, 'train_on': 8.1, 'infer': 33.9}}
ANCHOR_SHAPE = dict(batch_size=32, num_clips=75, video_dim=2818, text_dim=512)
def _timed_step(runner: Runner, row: str, fn: Callable) -> float:
    """Seconds of one step (the runner's patches applied, not timed)."""
    with runner.patch():
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    if value is not None and value != value:
        raise FloatingPointError(f'{runner.name} {row}: loss is NaN')
    return seconds


def time_row(runner: Runner, row: str, steps: int, warmup: int,
             infer_steps: int) -> List[float]:
    """Seconds per step of one row (``train_off``/``train_on``/``infer``)."""
    return time_rows_interleaved([runner], row, steps, warmup,
                                 infer_steps)[runner.name]


def time_rows_interleaved(runners: Sequence[Runner], row: str, steps: int,
                          warmup: int,
                          infer_steps: int) -> Dict[str, List[float]]:
    """Seconds per step of one row for every runner, steps interleaved.

    Step ``i`` of every runner runs before step ``i + 1`` of any, and the
    runner that goes first alternates, so a load change on a shared
    machine hits ours and the official code alike (``warmup`` untimed
    steps of each first).

    Returns:
        dict: runner name -> seconds of each timed step.
    """
    fns = [_row_step(r, row, steps, infer_steps) for r in runners]
    n = fns[0][1]
    times: Dict[str, List[float]] = {r.name: [] for r in runners}
    for i in range(warmup + n):
        order = list(zip(runners, fns))
        if i % 2:
            order.reverse()
        for runner, (fn, _) in order:
            seconds = _timed_step(runner, row, fn)
            if i >= warmup:
                times[runner.name].append(seconds)
    return times


def anchor_for(model_type: str, shape: Dict[str, int]) -> Optional[dict]:
    """The official_speed.md anchor, if it applies to these shapes."""
    if shape != ANCHOR_SHAPE:
        return None
    return ANCHORS.get(model_type)


def profile(runner: Runner, rows: Sequence[str], row_limit: int,
            warmup: int) -> None:
    """Print the top ops (self CPU time) of one step per row.

    ``warmup`` unprofiled steps run first: the first steps of a process
    also pay for allocations and lazy initialisation.
    """
    from torch.profiler import ProfilerActivity, profile as tprofile
    for row in rows:
        if warmup:
            time_row(runner, row, 1, warmup - 1, 1)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            time_row(runner, row, 1, 0, 1)
        print(f'\nprofile {runner.name} {row}:')
        print(prof.key_averages().table(
            sort_by='self_cpu_time_total', row_limit=row_limit))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark a model.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-clips', type=int, default=75)
    parser.add_argument(
        '--video-dim',
        type=int,
        default=2818,
        help='video width incl. 2 TEF columns; 2818 = '
        'SlowFast 2304 + CLIP 512 + TEF 2')
    parser.add_argument('--text-dim', type=int, default=512)
    parser.add_argument(
        '--steps', type=int, default=8, help='timed train steps')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--infer-steps', type=int, default=10, help='timed inference passes')
    parser.add_argument(
        '--feedback', choices=['on', 'off', 'both'], default='both')
    parser.add_argument(
        '--repeat',
        type=int,
        default=1,
        help='runs of everything; medians are reported')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads (default: torch default)')
    parser.add_argument(
        '--official-root',
        help='official repository '
        'checkout, timed in the same run')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='print the top N ops of one step per row')
    parser.add_argument(
        '--roofline',
        action='store_true',
        help='also count the FLOPs of each step and print the best ratio '
        'that work allows at this machine\'s matrix-product peak')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)')
    args = parser.parse_args(argv)
    if min(args.steps, args.infer_steps, args.repeat) < 1 or args.warmup < 0 \
            or (args.threads is not None and args.threads < 1):
        parser.error('--steps, --infer-steps, --repeat and --threads must be '
                     '>= 1, --warmup >= 0')
    return args


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'benchmark_model: config {args.config} not '
                                'found')
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    shape = dict(
        batch_size=args.batch_size,
        num_clips=args.num_clips,
        video_dim=args.video_dim,
        text_dim=args.text_dim)
    batch = _to(make_batch(seed=args.seed, **shape), device)
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.video_dim, args.text_dim, device)
    model_type = cfg.model['type']
    optim_cfg = (cfg.get('optim_wrapper') or {}).get('optimizer')
    runners = [Runner(model, batch, optim_cfg)]
    if args.official_root:
        if model_type not in OFFICIAL_ADAPTERS:
            raise ValueError(f'benchmark_model: no official adapter for '
                             f"'{model_type}'; known: "
                             f'{sorted(OFFICIAL_ADAPTERS)}')
        runners.append(OFFICIAL_ADAPTERS[model_type](args.official_root, batch,
                                                     args.video_dim,
                                                     args.text_dim, device,
                                                     args.seed))
    rows = ['train_off', 'train_on'] if runners[0].has_feedback else ['train']
    if args.feedback != 'both' and runners[0].has_feedback:
        rows = [f'train_{args.feedback}']
    rows.append('infer')

    n_params = sum(p.numel() for p in model.parameters())
    print(f'{datetime.date.today()} {model_type} ({n_params:,} params) on '
          f'{device}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads; B={args.batch_size} '
          f'L={args.num_clips} video {args.video_dim} text {args.text_dim}; '
          f'{args.warmup} warm-up + {args.steps} train steps, '
          f'{args.infer_steps} inference passes, x{args.repeat}')
    if args.profile:
        for runner in runners:
            profile(runner, rows, args.profile, args.warmup)
    # Per-step seconds of every repeat, ours and official interleaved step
    # by step; the median step is robust to other processes' bursts.
    times: Dict[Tuple[str, str], List[float]] = {}
    for _ in range(args.repeat):
        for row in rows:
            row_times = time_rows_interleaved(runners, row, args.steps,
                                              args.warmup, args.infer_steps)
            for name, t in row_times.items():
                times.setdefault((name, row), []).extend(t)
    anchor = None if args.official_root else anchor_for(model_type, shape)
    results = []
    for row in rows:
        res = dict(row=row)
        for runner in runners:
            sec = statistics.median(times[(runner.name, row)])
            res[runner.name] = args.batch_size / sec
        if 'official' in res:
            res['ratio'] = res['ours'] / res['official']
        elif anchor is not None and row in anchor:
            res['anchor'] = anchor[row]
            res['ratio'] = res['ours'] / anchor[row]
        results.append(res)
    _print(results, args, anchor, model_type)
    if args.roofline:
        for res, info in zip(
                results, roofline(runners, rows, results, args.batch_size,
                                  device)):
            res.update(info)
    return results


def _print(results: List[dict], args: argparse.Namespace,
           anchor: Optional[dict], model_type: str) -> None:
    ref = 'official' if args.official_root else 'anchor'
    table = [['row', 'ours samples/s', f'{ref} samples/s', 'ours/' + ref]]
    for r in results:
        other = r.get(ref)
        table.append([
            r['row'], f"{r['ours']:.2f}",
            'n/a' if other is None else f'{other:.2f}',
            'n/a' if 'ratio' not in r else f"{r['ratio']:.2f}x"
        ])
    print(AsciiTable(table).table)
    if args.official_root:
        print(f'official: {args.official_root}, timed in this run')
    elif anchor is not None:
        print('anchor: the official implementation measured on this machine '
              'kind (2-core CPU, shared/research/official_speed.md); for an '
              'in-run comparison pass --official-root')
    else:
        print(f'no official anchor for {model_type} at these shapes (anchor '
              f'shapes: {ANCHOR_SHAPE}); for a comparison pass '
              '--official-root')


if __name__ == '__main__':
    main()
