# Copyright (c) mmmrhd contributors. All rights reserved.
"""Train one config with several seeds; report mean ± std of every metric.

Single-seed numbers of DETR-style MR/HD models move by a few points from
seed to seed; this tool trains the same config once per seed and summarises
the validation metrics::

    python tools/train_multi_seed.py CONFIG --seeds 0 1 2
    python tools/train_multi_seed.py CONFIG --seeds 0 1 2 --which best \\
        --work-dir work_dirs/qd3 --cfg-options train_cfg.max_epochs=100
    python tools/train_multi_seed.py CONFIG --seeds 0 1 2 --resume

Each seed is an ordinary ``tools/train.py CONFIG --seed S --work-dir
WORK_DIR/seed_S`` run (same argument handling, runner, checkpoints, resume
and errors), executed one after the other in this process. Afterwards the
validation metrics of every run are read back from the MMEngine logs
(``seed_S/<timestamp>/vis_data/scalars.json``) and

* ``--which last`` (default): the metrics of the run's final validation;
* ``--which best``: the metrics of the validation with the best value of
  ``--best-metric`` (default: the config's
  ``default_hooks.checkpoint.save_best``; ``--best-rule`` defaults to the
  hook's ``rule``, else ``less`` for names with ``loss`` and ``greater``
  otherwise; ties go to the earliest validation, as MMEngine's
  CheckpointHook). This picks the epoch on the split it reports, so it is
  optimistic; ``last`` is the default for that reason.

are summarised as mean ± sample standard deviation (``n - 1`` in the
denominator; undefined, shown as ``n/a``, for a single run) in a table and
in ``WORK_DIR/multi_seed_summary.json``.

Errors in the input stop at once with one line ``error: ...`` and exit
status 2: bad seeds or options and config errors before any training; a
data, config or checkpoint error of mmmrhd (``UserError``) during a seed's
run, since it would repeat for every seed. A seed whose training raises
anything else (a NaN check, out of memory, a bug) is reported as ``seed S
failed: ...`` and the remaining seeds still run, unless ``--stop-on-error``
is given; the summary covers the seeds that finished, lists the failed
ones, and the exit status is 1. Under a distributed launcher a failure
always stops (the ranks cannot be brought back in step).

``--resume`` continues an interrupted multi-seed run: finished seeds are
not trained again, an interrupted seed resumes from the newest checkpoint
of its work dir (``tools/train.py --resume``), a seed without a checkpoint
starts from scratch; other ``--cfg-options`` than a seed was trained with
are refused. The state of each seed is kept in
``seed_S/multi_seed_state.json``.
"""
import argparse
import importlib.util
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.dist import get_rank
from terminaltables import AsciiTable

from mmmrhd.utils.atomic_io import write_text_atomic
from mmmrhd.utils.cli import (add_launch_args, build_runner_from_args,
                              check_cfg_options, debug_requested, run_main)
from mmmrhd.utils.errors import ConfigError, UserError

SUMMARY_FILE = 'multi_seed_summary.json'
STATE_FILE = 'multi_seed_state.json'
# Keys MMEngine's LoggerHook adds to a validation record besides the metrics.
NON_METRIC_KEYS = ('step', 'time', 'data_time')
# torch/numpy accept seeds in [0, 2**32) (numpy.random.seed).
MAX_SEED = 2**32
# train.py flags passed through unchanged.
PASS_THROUGH_FLAGS = ('amp', 'auto_scale_lr', 'deterministic',
                      'diff_rank_seed')


def _load_train_tool():
    """``tools/train.py`` as a module (it lives beside this file)."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'train.py')
    spec = importlib.util.spec_from_file_location('_mmmrhd_train_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse and check the command line (usage errors exit with status 2).

    Args:
        argv (list[str], optional): Defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='Train a config with several seeds and print mean ± std '
        'of every validation metric')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        required=True,
        help='the seeds, e.g. --seeds 0 1 2 (distinct integers in '
        f'[0, {MAX_SEED}))')
    parser.add_argument(
        '--work-dir',
        help='parent directory of the runs (seed_<s>/ each) and of '
        f'{SUMMARY_FILE}; defaults to the config\'s work_dir, else '
        './work_dirs/<config name>')
    parser.add_argument(
        '--which',
        choices=['last', 'best'],
        default='last',
        help='summarise the final validation of each run (default) or its '
        'best validation by --best-metric')
    parser.add_argument(
        '--best-metric',
        help='metric that selects the best validation (--which best); '
        'defaults to default_hooks.checkpoint.save_best of the config')
    parser.add_argument(
        '--best-rule',
        choices=['greater', 'less'],
        help='whether larger or smaller --best-metric is better; defaults '
        'to the checkpoint hook\'s rule, else less for *loss* names and '
        'greater otherwise')
    parser.add_argument(
        '--decimals',
        type=int,
        default=2,
        help='decimals in the printed table (default 2; the JSON keeps '
        'full precision)')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='skip finished seeds, resume interrupted ones from their '
        'newest checkpoint')
    parser.add_argument(
        '--stop-on-error',
        action='store_true',
        help='stop at the first seed that fails (default: report it and '
        'train the remaining seeds)')
    for flag in PASS_THROUGH_FLAGS:
        parser.add_argument(
            '--' + flag.replace('_', '-'),
            action='store_true',
            help='passed to tools/train.py for every seed')
    add_launch_args(parser, 'train_cfg.max_epochs=10')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config} does not exist')
    seen = set()
    for seed in args.seeds:
        if not 0 <= seed < MAX_SEED:
            parser.error(f'--seeds: {seed} is not in [0, {MAX_SEED})')
        if seed in seen:
            parser.error(f'--seeds: seed {seed} is given twice')
        seen.add(seed)
    if args.decimals < 0:
        parser.error(f'--decimals must be >= 0, got {args.decimals}')
    if args.work_dir is not None and osp.isfile(args.work_dir):
        parser.error(f'--work-dir {args.work_dir} is a file')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def check_config(
        args: argparse.Namespace) -> Tuple[Config, str, Optional[str], str]:
    """Load the config once, before any training, and check the options.

    Args:
        args (argparse.Namespace): Output of :func:`parse_args`.

    Returns:
        tuple: ``(cfg, work_dir, best_metric, best_rule)``: the config with
        ``--cfg-options`` merged; the metric is None for ``--which last``.

    Raises:
        ConfigError: The config cannot be loaded, an option is unknown or
            sets the seed, the config does not validate, or ``--which best``
            has no metric to select by.
    """
    try:
        cfg = Config.fromfile(args.config)
    except (SyntaxError, ImportError) as error:
        raise ConfigError(f'cannot load config {args.config}: '
                          f'{type(error).__name__}: {error}') from error
    options = args.cfg_options or {}
    check_cfg_options(cfg, options, args.config)
    for key in options:
        if key == 'randomness' or key.startswith('randomness.seed'):
            raise ConfigError(f'--cfg-options {key}: the seeds come from '
                              '--seeds')
    cfg.merge_from_dict(options)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        if cfg.get(key, None) is None:
            raise ConfigError(
                f'{args.config} has no {key}: the runs must validate to be '
                'summarised')
    work_dir = args.work_dir or cfg.get('work_dir', None) or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    if args.which == 'last':
        return cfg, work_dir, None, 'greater'
    ckpt_hook = (cfg.get('default_hooks', None) or {}).get('checkpoint') or {}
    metric = args.best_metric
    rule = args.best_rule
    if metric is None:
        save_best = ckpt_hook.get('save_best', None)
        if isinstance(save_best, (list, tuple)):
            save_best = save_best[0] if save_best else None
        if save_best in (None, 'auto'):
            raise ConfigError(
                f'--which best: {args.config} names no metric in '
                'default_hooks.checkpoint.save_best; give --best-metric')
        metric = save_best
        if rule is None:
            hook_rule = ckpt_hook.get('rule', None)
            if isinstance(hook_rule, (list, tuple)):
                hook_rule = hook_rule[0] if hook_rule else None
            rule = hook_rule
    if rule is None:
        rule = 'less' if 'loss' in metric.lower() else 'greater'
    return cfg, work_dir, metric, rule


# --------------------------------------------------------------- reading logs


def read_val_records(log_dir: str) -> List[Dict[str, float]]:
    """The validation records of one MMEngine run directory.

    Args:
        log_dir (str): ``<work_dir>/<timestamp>`` of a run.

    Returns:
        list[dict]: In logging order, each ``{'step': int, metric: value,
        ...}`` (``step`` is the epoch for epoch-based loops, else the
        iteration); training records (which carry ``iter``/``lr``) are
        left out. Empty when the run logged no validation.

    Raises:
        UserError: A line of ``scalars.json`` is not JSON.
    """
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    if not osp.isfile(path):
        return []
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise UserError(f'{path} line {lineno} is not JSON: '
                                f'{error}') from error
            if 'iter' in record or 'lr' in record or 'step' not in record:
                continue  # a training record
            records.append({
                k: v
                for k, v in record.items()
                if k == 'step' or k not in NON_METRIC_KEYS
            })
    return records


def run_history(seed_dir: str, log_dirs: Sequence[str]) -> List[dict]:
    """The validation history of one seed across its (resumed) runs.

    A resumed run repeats the steps after its checkpoint, so a later run's
    record replaces an earlier one of the same step.

    Args:
        seed_dir (str): The seed's work dir.
        log_dirs (Sequence[str]): Its runs' timestamp dirs, oldest first.

    Returns:
        list[dict]: Validation records ordered by step.
    """
    by_step = {}
    for name in log_dirs:
        for record in read_val_records(osp.join(seed_dir, name)):
            by_step[record['step']] = record
    return [by_step[step] for step in sorted(by_step)]


def select_record(history: List[dict], which: str, metric: Optional[str],
                  rule: str, where: str) -> dict:
    """The final validation, or the best one by ``metric`` / ``rule``.

    Ties go to the earliest validation (MMEngine's CheckpointHook compares
    with a strict ``>`` / ``<``).

    Args:
        history (list[dict]): Output of :func:`run_history` (non-empty).
        which (str): ``'last'`` or ``'best'``.
        metric (str, optional): The selecting metric (``'best'``).
        rule (str): ``'greater'`` or ``'less'``.
        where (str): The seed's work dir, for messages.

    Returns:
        dict: The selected record.

    Raises:
        ConfigError: ``metric`` is not a validation metric of the run.
    """
    if which == 'last':
        return history[-1]
    if metric not in history[0]:
        names = [k for k in history[0] if k != 'step']
        raise ConfigError(f'--which best: {metric!r} is not a validation '
                          f'metric of the run in {where} (it has '
                          f'{", ".join(names)})')
    best = history[0]
    for record in history[1:]:
        value = record[metric]
        if (value > best[metric]) if rule == 'greater' else (
                value < best[metric]):
            best = record
    return best


# ---------------------------------------------------------------- statistics


def summarise(runs: List[dict]) -> Dict[str, dict]:
    """Mean and sample standard deviation of every metric over the runs.

    Args:
        runs (list[dict]): ``{'seed': int, 'metrics': {name: value}}`` per
            successful run.

    Returns:
        dict: ``{name: {'mean', 'std', 'min', 'max', 'n'}}`` in the metric
        order of the first run. ``std`` uses ``n - 1`` (Bessel's
        correction) and is None for ``n == 1``. A metric missing from some
        run is summarised over the runs that have it (``n`` says so).
    """
    names = []
    for run in runs:
        names += [k for k in run['metrics'] if k not in names]
    summary = {}
    for name in names:
        values = [float(run['metrics'][name]) for run in runs
                  if name in run['metrics']]
        n = len(values)
        mean = math.fsum(values) / n
        std = (math.sqrt(math.fsum((v - mean)**2 for v in values) / (n - 1))
               if n > 1 else None)
        summary[name] = dict(
            mean=mean, std=std, min=min(values), max=max(values), n=n)
    return summary


def format_table(summary: Dict[str, dict], runs: List[dict], decimals: int,
                 title: str) -> str:
    """The summary as an :class:`terminaltables.AsciiTable`.

    Args:
        summary (dict): Output of :func:`summarise`.
        runs (list[dict]): The runs, for the per-seed columns.
        decimals (int): Decimals of every number.
        title (str): Table title.

    Returns:
        str: The rendered table: metric, ``mean ± std``, one column per
        seed.
    """
    fmt = f'{{:.{decimals}f}}'
    rows = [['metric', 'mean ± std'] + [f'seed {r["seed"]}' for r in runs]]
    for name, stats in summary.items():
        std = 'n/a' if stats['std'] is None else fmt.format(stats['std'])
        cells = [
            fmt.format(r['metrics'][name]) if name in r['metrics'] else '-'
            for r in runs
        ]
        rows.append([name, f'{fmt.format(stats["mean"])} ± {std}'] + cells)
    table = AsciiTable(rows, title=title)
    for col in range(1, len(rows[0])):
        table.justify_columns[col] = 'right'
    return table.table


# ------------------------------------------------------------------ training


def _read_state(seed_dir: str) -> dict:
    path = osp.join(seed_dir, STATE_FILE)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as error:
        raise UserError(f'{path} is not JSON ({error}); delete it to start '
                        'this seed again') from error


def _write_state(seed_dir: str, state: dict) -> None:
    if get_rank() == 0:
        os.makedirs(seed_dir, exist_ok=True)
        write_text_atomic(
            osp.join(seed_dir, STATE_FILE), json.dumps(state, indent=2))


_USED_NAMES = set()


def _unique_name(base: str) -> str:
    """An experiment name not used before in this process.

    MMEngine keeps one logger, message hub and visualizer per name per
    process; runs that shared one would write into each other's files.
    """
    name, i = base, 1
    while name in _USED_NAMES:
        i += 1
        name = f'{base}-{i}'
    _USED_NAMES.add(name)
    return name


def train_seed(train_tool, args: argparse.Namespace, cfg: Config, seed: int,
               seed_dir: str) -> List[str]:
    """Train (or resume, or skip) one seed through ``tools/train.py``.

    Args:
        train_tool: The ``tools/train.py`` module.
        args (argparse.Namespace): Output of :func:`parse_args`.
        cfg (Config): The merged config (for its names).
        seed (int): The seed.
        seed_dir (str): Its work dir.

    Returns:
        list[str]: The run's timestamp dirs (oldest first).
    """
    state = _read_state(seed_dir) if args.resume else {}
    options = json.loads(json.dumps(args.cfg_options or {}))
    if state and state.get('cfg_options', {}) != options:
        raise ConfigError(
            f'--resume: {seed_dir} was trained with --cfg-options '
            f'{_format_options(state.get("cfg_options", {}))}, not '
            f'{_format_options(options)}; use another --work-dir')
    if state.get('status') == 'done':
        print(f'seed {seed}: finished before, not trained again '
              f'({seed_dir})')
        return state['log_dirs']
    resume = args.resume and osp.isfile(
        osp.join(seed_dir, 'last_checkpoint'))
    log_dirs = list(state.get('log_dirs', [])) if resume else []
    base = cfg.get('experiment_name', None) or osp.splitext(
        osp.basename(args.config))[0]
    name = _unique_name(f'{base}_seed{seed}')
    run_options = dict(args.cfg_options or {})
    run_options['experiment_name'] = name
    if isinstance(cfg.get('visualizer', None), dict):
        run_options['visualizer.name'] = f'visualizer_{name}'
    argv = [args.config, '--work-dir', seed_dir, '--seed', str(seed),
            '--launcher', args.launcher]
    argv += ['--' + f.replace('_', '-') for f in PASS_THROUGH_FLAGS
             if getattr(args, f)]
    if resume:
        argv.append('--resume')
    train_args = train_tool.parse_args(argv)
    train_args.cfg_options = run_options  # already parsed: no re-quoting
    runner = build_runner_from_args(train_args, train_tool.merge_args)
    log_dirs.append(osp.basename(runner.log_dir))
    state = dict(seed=seed, config=args.config, cfg_options=options,
                 log_dirs=log_dirs)
    _write_state(seed_dir, dict(state, status='running'))
    try:
        runner.train()
    except BaseException as error:
        _write_state(seed_dir,
                     dict(state, status='failed', error=_one_line(error)))
        raise
    _write_state(seed_dir, dict(state, status='done'))
    return log_dirs


def _format_options(options: dict) -> str:
    return ' '.join(f'{k}={v}' for k, v in options.items()) or '(none)'


def _one_line(error: BaseException) -> str:
    return f'{type(error).__name__}: ' + ' '.join(str(error).split())


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the exit status (1 if a seed failed).

    Args:
        argv (list[str], optional): Defaults to ``sys.argv[1:]``.

    Returns:
        int: 0 when every seed trained, 1 when some failed.
    """
    args = parse_args(argv)
    cfg, work_dir, metric, rule = check_config(args)
    train_tool = _load_train_tool()
    distributed = args.launcher != 'none'
    runs, failed = [], []
    for i, seed in enumerate(args.seeds, 1):
        seed_dir = osp.join(work_dir, f'seed_{seed}')
        print(f'=== seed {seed} ({i}/{len(args.seeds)}): {seed_dir}',
              flush=True)
        try:
            log_dirs = train_seed(train_tool, args, cfg, seed, seed_dir)
            if get_rank() != 0:
                continue  # rank 0 writes the logs and reads them back
            history = run_history(seed_dir, log_dirs)
            if not history:
                raise UserError(f'the run in {seed_dir} logged no '
                                'validation (val_interval larger than the '
                                'schedule?)')
            record = select_record(history, args.which, metric, rule,
                                   seed_dir)
        except UserError:
            # bad config, data or checkpoint: the same for every seed, so
            # stop with the one-line error (exit 2)
            raise
        except Exception as error:  # noqa: BLE001 -- reported, see docs
            if distributed or args.stop_on_error or debug_requested(argv):
                raise
            message = _one_line(error)
            print(f'seed {seed} failed: {message}', file=sys.stderr,
                  flush=True)
            failed.append(dict(seed=seed, work_dir=seed_dir, error=message))
            continue
        runs.append(
            dict(seed=seed, work_dir=seed_dir, log_dirs=log_dirs,
                 step=record['step'],
                 metrics={k: v for k, v in record.items() if k != 'step'}))
    if get_rank() != 0:
        return 0
    summary = summarise(runs) if runs else {}
    result = dict(
        config=args.config,
        work_dir=work_dir,
        seeds=list(args.seeds),
        which=args.which,
        best_metric=metric,
        best_rule=rule if metric else None,
        std='sample standard deviation (ddof=1, n - 1 in the denominator); '
        'null for a single run',
        summary=summary,
        runs=runs,
        failed=failed)
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, SUMMARY_FILE)
    write_text_atomic(out, json.dumps(result, indent=2))
    if runs:
        which = ('final validation' if args.which == 'last' else
                 f'best validation by {metric} ({rule})')
        title = (f' {len(runs)} seed(s), {which}; std = sample std (n-1) ')
        print(format_table(summary, runs, args.decimals, title))
    for fail in failed:
        print(f'seed {fail["seed"]} FAILED: {fail["error"]}')
    print(f'summary written to {out}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(run_main(main))
