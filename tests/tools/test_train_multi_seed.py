# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/train_multi_seed.py on the demo data with a tiny QD-DETR config.

The tool's summary is checked against numbers read independently from the
run directories (MMEngine's ``scalars.json``) with :mod:`statistics`; a
failing seed, ``--resume`` (finished seeds skipped, an interrupted seed
continued from its checkpoint), ``--stop-on-error`` and the input errors
are covered too. Runs in-process through :func:`run_main`, like the tool's
``__main__``.
"""
import contextlib
import glob
import io
import importlib.util
import json
import os.path as osp
import statistics

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook

from mmmrhd.registry import HOOKS
from mmmrhd.utils.cli import run_main

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE_CFG = osp.join(REPO, 'configs', 'qd_detr', 'qd_detr_demo.py')
METRIC_KEYS = ('MR-full-R1@0.5', 'MR-full-mAP', 'HL-min-VeryGood-mAP',
               'HL-min-VeryGood-Hit1')


@HOOKS.register_module(force=True)
class _MultiSeedFailOnce(Hook):
    """Raise when seed ``seed`` starts (1-based) epoch ``epoch``, i.e.
    after the checkpoint and validation of the epoch before; once
    (``marker`` records that it happened)."""

    def __init__(self, seed: int, epoch: int, marker: str) -> None:
        self.seed, self.epoch, self.marker = seed, epoch, marker

    def before_train_epoch(self, runner) -> None:
        if (runner.seed == self.seed and runner.epoch + 1 == self.epoch
                and not osp.exists(self.marker)):
            open(self.marker, 'w').close()
            raise RuntimeError(f'injected failure of seed {self.seed}')


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        '_mmmrhd_train_multi_seed',
        osp.join(REPO, 'tools', 'train_multi_seed.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load_tool()


pytestmark = pytest.mark.usefixtures('one_torch_thread')


def _write_cfg(path, data_root, fail_seed=-1, fail_epoch=2,
               marker='none') -> str:
    """QD-DETR demo: 16 train / 8 val queries, batch 8, 2 epochs."""
    text = f'''
_base_ = [{BASE_CFG!r}]
_ds = dict(data_root={str(data_root)!r}, num_train=16, num_val=8)
train_dataloader = dict(batch_size=8, dataset=_ds)
val_dataloader = dict(batch_size=8, dataset=_ds)
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='_MultiSeedFailOnce', seed={fail_seed}, epoch={fail_epoch},
         marker={str(marker)!r}),
]
'''
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp('multi_seed')
    cfg = _write_cfg(root / 'tiny_ms.py', root / 'demo', fail_seed=7,
                     marker=root / 'seed7_failed_once')
    return root, cfg


@pytest.fixture(scope='module')
def two_seeds(root, tool):
    root, cfg = root
    work_dir = root / 'wd'
    out = io.StringIO()  # capsys is per test
    with contextlib.redirect_stdout(out):
        status = run_main(
            tool.main, [cfg, '--seeds', '0', '1', '--work-dir', str(work_dir)])
    return work_dir, status, out.getvalue()


def _val_lines(run_dir) -> list:
    """The validation lines of one run's ``scalars.json`` (read by hand)."""
    with open(osp.join(run_dir, 'vis_data', 'scalars.json')) as f:
        return [rec for rec in map(json.loads, f) if 'lr' not in rec]


def _val_records(seed_dir) -> list:
    """Validation lines of every run of a seed, later runs first, by step."""
    by_step = {}
    for run_dir in sorted(glob.glob(f'{seed_dir}/2*/')):  # timestamps
        by_step.update((rec['step'], rec) for rec in _val_lines(run_dir))
    return [by_step[s] for s in sorted(by_step)]


def _summary(work_dir) -> dict:
    with open(work_dir / 'multi_seed_summary.json') as f:
        return json.load(f)


def test_two_seeds_mean_and_sample_std(two_seeds):
    work_dir, status, out = two_seeds
    assert status == 0
    summary = _summary(work_dir)
    assert summary['seeds'] == [0, 1] and summary['failed'] == []
    assert summary['which'] == 'last'
    assert [r['seed'] for r in summary['runs']] == [0, 1]
    finals = []
    for seed in (0, 1):
        seed_dir = work_dir / f'seed_{seed}'
        # the run trained with this seed (config dumped by the Runner)
        assert Config.fromfile(str(seed_dir / 'tiny_ms.py')).randomness[
            'seed'] == seed
        records = _val_records(seed_dir)
        assert [r['step'] for r in records] == [1, 2]
        finals.append(records[-1])
    # the seeds change the training
    assert any(finals[0][k] != finals[1][k] for k in METRIC_KEYS)
    assert len(summary['summary']) == 14  # every QVHighlights brief metric
    for key in METRIC_KEYS:
        values = [f[key] for f in finals]
        stats = summary['summary'][key]
        assert stats['n'] == 2
        assert stats['mean'] == pytest.approx(statistics.mean(values),
                                              abs=1e-9)
        # sample std: |a - b| / sqrt(2) for two values
        assert stats['std'] == pytest.approx(statistics.stdev(values),
                                             abs=1e-9)
        assert stats['std'] == pytest.approx(
            abs(values[0] - values[1]) / 2**0.5, abs=1e-9)
        # the last table printed (the runs print their metric tables too)
        line = [ln for ln in out.splitlines()
                if ln.startswith(f'| {key} ')][-1]
        assert [c.strip() for c in line.split('|')[1:-1]] == [
            key, f'{statistics.mean(values):.2f} ± '
            f'{statistics.stdev(values):.2f}', f'{values[0]:.2f}',
            f'{values[1]:.2f}'
        ]
    assert 'std = sample std (n-1)' in out


def test_best_validation_without_retraining(two_seeds, root, tool, capsys):
    work_dir = two_seeds[0]
    _, cfg = root
    status = run_main(tool.main, [
        cfg, '--seeds', '0', '1', '--work-dir',
        str(work_dir), '--resume', '--which', 'best', '--decimals', '3'
    ])
    assert status == 0
    out = capsys.readouterr().out
    assert out.count('finished before, not trained again') == 2
    summary = _summary(work_dir)
    # the config's checkpoint hook: save_best='MR-full-mAP', rule='greater'
    assert (summary['best_metric'], summary['best_rule']) == ('MR-full-mAP',
                                                              'greater')
    bests = []
    for seed in (0, 1):
        records = _val_records(work_dir / f'seed_{seed}')
        top = max(r['MR-full-mAP'] for r in records)
        bests.append(next(r for r in records if r['MR-full-mAP'] == top))
    assert [r['step'] for r in summary['runs']] == [b['step'] for b in bests]
    values = [b['HL-min-VeryGood-mAP'] for b in bests]
    stats = summary['summary']['HL-min-VeryGood-mAP']
    assert stats['mean'] == pytest.approx(statistics.mean(values), abs=1e-9)
    assert stats['std'] == pytest.approx(statistics.stdev(values), abs=1e-9)
    assert f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}' \
        in out
    # resuming with other options would mix two experiments
    line = _usage_error(tool, [
        cfg, '--seeds', '0', '--work-dir', str(work_dir), '--resume',
        '--cfg-options', 'train_cfg.max_epochs=3'
    ], capsys)
    assert line == (f'error: --resume: {work_dir / "seed_0"} was trained '
                    'with --cfg-options (none), not train_cfg.max_epochs=3; '
                    'use another --work-dir')


def test_failed_seed_is_reported_then_resumed(two_seeds, root, tool, capsys):
    work_dir = two_seeds[0]
    _, cfg = root
    argv = [cfg, '--seeds', '0', '1', '7', '--work-dir', str(work_dir),
            '--resume']
    # seeds 0 and 1 are done; seed 7 raises after its epoch-1 checkpoint
    # and validation
    assert run_main(tool.main, argv) == 1
    captured = capsys.readouterr()
    assert 'seed 7 failed: RuntimeError: injected failure of seed 7' in \
        captured.err
    summary = _summary(work_dir)
    assert summary['failed'] == [
        dict(seed=7, work_dir=str(work_dir / 'seed_7'),
             error='RuntimeError: injected failure of seed 7')
    ]
    assert [r['seed'] for r in summary['runs']] == [0, 1]
    assert summary['summary']['MR-full-mAP']['n'] == 2
    with open(work_dir / 'seed_7' / 'multi_seed_state.json') as f:
        assert json.load(f)['status'] == 'failed'
    # again: seed 7 continues from its epoch-1 checkpoint (the failure
    # happens once), its history spans both runs
    assert run_main(tool.main, argv) == 0
    assert 'resumed epoch: 1' in capsys.readouterr().out
    with open(work_dir / 'seed_7' / 'multi_seed_state.json') as f:
        state = json.load(f)
    assert state['status'] == 'done' and len(state['log_dirs']) == 2
    records = _val_records(work_dir / 'seed_7')
    assert [r['step'] for r in records] == [1, 2]
    assert [len(_val_lines(work_dir / 'seed_7' / d)) for d in state['log_dirs']
            ] == [1, 1]  # one validation in each run
    summary = _summary(work_dir)
    assert summary['failed'] == [] and summary['runs'][2]['step'] == 2
    values = [summary['runs'][i]['metrics']['MR-full-mAP'] for i in range(2)]
    values.append(records[-1]['MR-full-mAP'])
    assert summary['summary']['MR-full-mAP']['std'] == pytest.approx(
        statistics.stdev(values), abs=1e-9)


def test_stop_on_error(tmp_path, root, tool):
    cfg = _write_cfg(tmp_path / 'stop.py', root[0] / 'demo', fail_seed=3,
                     fail_epoch=1, marker=tmp_path / 'marker')
    with pytest.raises(RuntimeError, match='injected failure of seed 3'):
        run_main(tool.main, [cfg, '--seeds', '3', '4', '--work-dir',
                             str(tmp_path / 'wd'), '--stop-on-error'])
    assert not osp.exists(tmp_path / 'wd' / 'seed_4')


def _usage_error(tool, argv, capsys) -> str:
    with pytest.raises(SystemExit) as err:
        run_main(tool.main, argv)
    assert err.value.code == 2
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    lines = [ln for ln in stderr.splitlines() if 'error: ' in ln]
    assert len(lines) == 1, stderr
    return lines[0]


def test_input_errors(root, tool, tmp_path, capsys):
    _, cfg = root
    missing = str(tmp_path / 'missing.py')
    line = _usage_error(tool, [missing, '--seeds', '0'], capsys)
    assert line.endswith(f'error: config file {missing} does not exist')
    line = _usage_error(tool, [cfg, '--seeds', '0', '1', '0'], capsys)
    assert line.endswith('error: --seeds: seed 0 is given twice')
    line = _usage_error(tool, [cfg, '--seeds', '0', 'one'], capsys)
    assert line.endswith("error: argument --seeds: invalid int value: 'one'")
    line = _usage_error(tool, [cfg, '--seeds', '-1'], capsys)
    assert 'error: --seeds: -1 is not in [0, 4294967296)' in line
    line = _usage_error(tool, [cfg], capsys)
    assert 'the following arguments are required: --seeds' in line
    wd = ['--work-dir', str(tmp_path / 'never')]
    # config-level errors: one line from run_main, before any training
    line = _usage_error(
        tool, [cfg, '--seeds', '0', *wd, '--cfg-options', 'randomness.seed=3'],
        capsys)
    assert line == ('error: --cfg-options randomness.seed: the seeds come '
                    'from --seeds')
    line = _usage_error(
        tool, [cfg, '--seeds', '0', *wd, '--cfg-options', 'train_cfgg.x=1'],
        capsys)
    assert "'train_cfgg' is not a key of" in line and 'did you mean' in line
    line = _usage_error(tool, [
        cfg, '--seeds', '0', *wd, '--which', 'best', '--cfg-options',
        'default_hooks.checkpoint.save_best=None'
    ], capsys)
    assert line == (f'error: --which best: {cfg} names no metric in '
                    'default_hooks.checkpoint.save_best; give --best-metric')
    line = _usage_error(
        tool, [cfg, '--seeds', '0', *wd, '--cfg-options', 'val_cfg=None'],
        capsys)
    assert line == (f'error: {cfg} has no val_cfg: the runs must validate to '
                    'be summarised')
    assert not osp.exists(tmp_path / 'never')


def test_summarise_hand_computed(tool):
    runs = [dict(seed=0, metrics={'a': 1.0, 'b': 5.0}),
            dict(seed=1, metrics={'a': 2.0}),
            dict(seed=2, metrics={'a': 6.0, 'b': 5.0})]
    summary = tool.summarise(runs)
    # a: mean 3, deviations -2 -1 3 -> sum of squares 14, / (3 - 1) = 7
    assert summary['a'] == dict(mean=3.0, std=7**0.5, min=1.0, max=6.0, n=3)
    assert summary['b'] == dict(mean=5.0, std=0.0, min=5.0, max=5.0, n=2)
    single = tool.summarise(runs[:1])
    assert single['a']['std'] is None
    table = tool.format_table(single, runs[:1], 1, ' t ')
    assert '| a      |  1.0 ± n/a |    1.0 |' in table
