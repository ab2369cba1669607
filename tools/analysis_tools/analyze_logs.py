# Copyright (c) mmmrhd contributors. All rights reserved.
"""Plot training curves and compute the training speed from MMEngine logs.

Examples::

    # loss per iteration and MR-full-mAP per validation epoch, one panel each
    python tools/analysis_tools/analyze_logs.py plot_curve \
        work_dirs/taskweave_demo --keys loss MR-full-mAP --out curves.png
    # two runs compared
    python tools/analysis_tools/analyze_logs.py plot_curve \
        work_dirs/run_a work_dirs/run_b --keys loss_mr --legend a b
    python tools/analysis_tools/analyze_logs.py cal_train_time \
        work_dirs/taskweave_demo

Reads the ``vis_data/scalars.json`` that MMEngine's ``LocalVisBackend``
writes (mmmrhd's ``default_runtime.py``): one JSON object per line, a
training iteration (``iter``, ``epoch``, ``loss``, every loss term, ``lr``,
``time``, ...) or a validation (``step`` = epoch, the metrics). An input is
that file, its ``vis_data`` or run (``<timestamp>``) directory, or a work
directory (its latest run that has one). A training key is plotted per
iteration, a validation metric per epoch. Plots are written with
matplotlib's Agg backend (no display needed).

Errors of the input (no scalars file, a key no run logged, a bad line) are
one line, ``error: <message>``, and exit status 2 (``--debug`` or
``MMMRHD_DEBUG=1`` shows the traceback).
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from mmmrhd.utils.cli import add_debug_arg, run_main
from mmmrhd.utils.errors import DataError

SCALARS = 'scalars.json'


class RunLog(NamedTuple):
    """The scalars of one run."""

    #: The ``scalars.json`` read.
    path: str
    #: Training records (they have ``iter``), in file order.
    train: List[dict]
    #: Validation records (no ``iter``; ``step`` is the epoch or the
    #: iteration of the validation), in file order.
    val: List[dict]


class Series(NamedTuple):
    """One key of one run."""

    #: ``'iter'`` (training keys) or ``'epoch'`` (validation metrics).
    x_name: str
    x: np.ndarray
    y: np.ndarray


def find_scalars(path: str) -> str:
    """The ``scalars.json`` an input names.

    Args:
        path (str): The file itself, a ``vis_data`` or run directory, or a
            work directory (its latest ``<timestamp>/vis_data/scalars.json``
            by name, MMEngine's timestamps sort by time).

    Returns:
        str: The file.

    Raises:
        DataError: Nothing found.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise DataError(f'{path}: no such file or directory')
    for pattern in (SCALARS, osp.join('vis_data', SCALARS),
                    osp.join('*', 'vis_data', SCALARS)):
        found = sorted(glob.glob(osp.join(glob.escape(path), pattern)))
        if found:
            return found[-1]
    raise DataError(f'{path}: no {SCALARS} found (looked for {SCALARS}, '
                    f'vis_data/{SCALARS} and <timestamp>/vis_data/{SCALARS}; '
                    "is LocalVisBackend in the config's vis_backends?)")


def load_scalars(path: str) -> RunLog:
    """Read a run's scalars.

    Args:
        path (str): See :func:`find_scalars`.

    Returns:
        RunLog: Training and validation records.

    Raises:
        DataError: Naming the file (and line): not found, not JSON lines of
            objects, or empty.
    """
    file = find_scalars(path)
    train, val = [], []
    with open(file, encoding='utf-8') as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f'{file}:{lineno}: not a JSON line '
                                f'({exc.msg})') from None
            if not isinstance(record, dict):
                raise DataError(f'{file}:{lineno}: expected a JSON object, '
                                f'got {type(record).__name__}')
            (train if 'iter' in record else val).append(record)
    if not train and not val:
        raise DataError(f'{file}: no scalars logged')
    return RunLog(file, train, val)


def series(run: RunLog, key: str) -> Series:
    """The values of ``key`` over the run.

    A training key (one that training records have) is per iteration
    (``iter``); a validation metric per epoch (the record's ``step``).

    Raises:
        DataError: The run never logged ``key`` (lists the keys it has).
    """
    for records, x_key, x_name in ((run.train, 'iter', 'iter'),
                                   (run.val, 'step', 'epoch')):
        rows = [r for r in records if key in r]
        if rows:
            return Series(x_name,
                          np.array([r[x_key] for r in rows], dtype=np.int64),
                          np.array([r[key] for r in rows], dtype=np.float64))
    raise DataError(f'key {key!r} is not in {run.path} (it has: '
                    f'{", ".join(available_keys(run))})')


def available_keys(run: RunLog) -> List[str]:
    """Plottable keys of a run: training keys, then validation metrics."""
    skip = {'iter', 'epoch', 'step'}
    keys: Dict[str, None] = {}
    for record in run.train + run.val:
        keys.update((k, None) for k, v in record.items()
                    if k not in skip and isinstance(v, (int, float)))
    return list(keys)


def plot_curve(runs: Sequence[RunLog], keys: Sequence[str],
               legend: Sequence[str], out: str,
               title: Optional[str] = None) -> str:
    """One panel per key, one line per run; saved as an image.

    Args:
        runs (Sequence[RunLog]): The runs.
        keys (Sequence[str]): Keys to plot.
        legend (Sequence[str]): One label per run.
        out (str): Image file (format from the extension, e.g. ``.png``).
        title (str, optional): Figure title.

    Returns:
        str: ``out``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    data = [[series(run, key) for run in runs] for key in keys]
    fig = Figure(figsize=(8, 2.6 * len(keys) + 0.6), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    for ax, key, per_run in zip(axes, keys, data):
        for label, s in zip(legend, per_run):
            ax.plot(s.x, s.y, marker='o' if s.x_name == 'epoch' else None,
                    ms=3, lw=1.2, label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(per_run[0].x_name)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    fig.savefig(out)
    return out


def train_time(run: RunLog, include_outliers: bool = False) -> dict:
    """Seconds per training iteration, overall and per epoch.

    As MMDetection's ``cal_train_time``: the first iteration of each epoch
    (data loader start-up) is left out unless ``include_outliers``.

    Returns:
        dict: ``epochs`` (epoch -> mean s/iter), ``slowest`` / ``fastest``
        (epoch, mean), ``std`` (over the epoch means) and ``mean`` (over
        all iterations kept).

    Raises:
        DataError: The run logged no ``time`` per iteration.
    """
    by_epoch: Dict[int, List[float]] = {}
    for record in run.train:
        if 'time' in record:
            by_epoch.setdefault(int(record.get('epoch', 0)),
                                []).append(float(record['time']))
    if not by_epoch:
        raise DataError(f'{run.path}: no training iteration logged a '
                        "'time' (is IterTimerHook in default_hooks?)")
    kept = {
        e: t if include_outliers or len(t) == 1 else t[1:]
        for e, t in by_epoch.items()
    }
    means = {e: float(np.mean(t)) for e, t in kept.items()}
    slowest = max(means, key=means.get)
    fastest = min(means, key=means.get)
    return dict(
        epochs=means,
        slowest=(slowest, means[slowest]),
        fastest=(fastest, means[fastest]),
        std=float(np.std(list(means.values()))),
        mean=float(np.mean(np.concatenate([np.asarray(t)
                                           for t in kept.values()]))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Analyze MMEngine training logs (vis_data/scalars.json)')
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot loss / metric curves')
    plot.add_argument(
        'inputs', nargs='+',
        help='work dirs, run dirs or scalars.json files (one line each)')
    plot.add_argument(
        '--keys', nargs='+', default=['loss'],
        help='keys to plot, one panel each (default: loss); training keys '
        'per iteration, validation metrics (e.g. MR-full-mAP) per epoch')
    plot.add_argument('--legend', nargs='+', help='one label per input')
    plot.add_argument('--title', help='figure title')
    plot.add_argument(
        '--out', default='curves.png',
        help='output image (default: curves.png)')
    add_debug_arg(plot)
    cal = sub.add_parser('cal_train_time',
                         help='seconds per training iteration')
    cal.add_argument('inputs', nargs='+',
                     help='work dirs, run dirs or scalars.json files')
    cal.add_argument(
        '--include-outliers', action='store_true',
        help='keep the first iteration of each epoch')
    add_debug_arg(cal)
    args = parser.parse_args(argv)
    if args.task == 'plot_curve' and args.legend is not None and len(
            args.legend) != len(args.inputs):
        parser.error(f'--legend has {len(args.legend)} labels for '
                     f'{len(args.inputs)} inputs')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tool; returns the exit status."""
    args = parse_args(argv)
    runs = [load_scalars(p) for p in args.inputs]
    if args.task == 'plot_curve':
        legend = args.legend or [
            osp.basename(osp.normpath(p)) for p in args.inputs
        ]
        out = plot_curve(runs, args.keys, legend, args.out, args.title)
        print(f'plotted {", ".join(args.keys)} of {len(runs)} run(s) to '
              f'{out}')
        return 0
    for run in runs:
        stats = train_time(run, args.include_outliers)
        print(f'-----Analyze train time of {run.path}-----')
        print(f'slowest epoch {stats["slowest"][0]}, average time is '
              f'{stats["slowest"][1]:.4f} s/iter')
        print(f'fastest epoch {stats["fastest"][0]}, average time is '
              f'{stats["fastest"][1]:.4f} s/iter')
        print(f'time std over epochs is {stats["std"]:.4f}')
        print(f'average iter time: {stats["mean"]:.4f} s/iter')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
