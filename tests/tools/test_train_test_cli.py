# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/train.py and tools/test.py: argument contract and end-to-end runs.

The toy model, dataset and metric below are registered in the mmmrhd
registries when this module is imported. The subprocess runs import it by
name through the toy config's ``custom_imports`` (with this directory on
``PYTHONPATH``), exactly as a user plugin would be imported.
"""
import glob
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from mmmrhd.registry import DATASETS, METRICS, MODELS
from mmmrhd.utils.errors import ConfigError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO_ROOT, 'tools')
THIS_DIR = osp.dirname(osp.abspath(__file__))
MODULE = osp.splitext(osp.basename(__file__))[0]


@DATASETS.register_module(force=True)
class CliToyDataset(Dataset):
    """y = sum(x) with fixed random x (3 features)."""

    metainfo = dict(name='cli-toy')

    def __init__(self, num_samples: int = 8, offset: int = 0) -> None:
        gen = torch.Generator().manual_seed(offset)
        self.x = torch.randn(num_samples, 3, generator=gen)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.x[idx], data_samples=self.y[idx])


@MODELS.register_module(force=True)
class CliToyModel(BaseModel):
    """A single linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        out = self.fc(inputs)
        if mode == 'loss':
            return dict(loss=((out - data_samples)**2).mean())
        if mode == 'predict':
            return list(zip(out, data_samples))
        return out


@METRICS.register_module(force=True)
class CliToyMetric(BaseMetric):
    """Mean squared error under the prefix ``cli``."""

    default_prefix = 'cli'

    def process(self, data_batch, data_samples) -> None:
        for pred, target in data_samples:
            self.results.append(float(((pred - target)**2).sum()))

    def compute_metrics(self, results: list) -> dict:
        return dict(mse=sum(results) / len(results))


def _toy_config(path) -> str:
    loader = ("dict(batch_size=4, num_workers=0, "
              "sampler=dict(type='DefaultSampler', shuffle={shuffle}), "
              "collate_fn=dict(type='default_collate'), "
              "dataset=dict(type='CliToyDataset', offset={offset}))")
    base = osp.join(REPO_ROOT, 'configs', '_base_', 'default_runtime.py')
    text = '\n'.join([
        f'_base_ = [{base!r}]',
        f"custom_imports = dict(imports=[{MODULE!r}], "
        'allow_failed_imports=False)',
        "model = dict(type='CliToyModel')",
        'train_dataloader = ' + loader.format(shuffle=True, offset=0),
        'val_dataloader = ' + loader.format(shuffle=False, offset=1),
        'test_dataloader = ' + loader.format(shuffle=False, offset=2),
        "val_evaluator = dict(type='CliToyMetric')",
        'test_evaluator = val_evaluator',
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05))",
        'train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=1)',
        'val_cfg = dict()',
        'test_cfg = dict()',
        'default_hooks = dict(logger=dict(interval=1))',
    ])
    with open(path, 'w') as f:
        f.write(text + '\n')
    return str(path)


def _run(tool: str, *args: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [THIS_DIR] + [p for p in [env.get('PYTHONPATH')] if p])
    env.pop('LOCAL_RANK', None)
    return subprocess.run([sys.executable, osp.join(TOOLS, tool), *args],
                          cwd=str(cwd),
                          env=env,
                          stdin=subprocess.DEVNULL,
                          capture_output=True,
                          text=True,
                          timeout=120)


def _check(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(
        f'_mmmrhd_tools_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """tools/train.py for 2 epochs (via --cfg-options) in a fresh cwd."""
    cwd = tmp_path_factory.mktemp('cli')
    config = _toy_config(cwd / 'toy_cli.py')
    out = _check(
        _run('train.py', config, '--cfg-options', 'train_cfg.max_epochs=2',
             cwd=cwd))
    return cwd, config, out


def test_train_writes_default_work_dir(trained):
    cwd, _, out = trained
    work_dir = cwd / 'work_dirs' / 'toy_cli'
    files = sorted(os.listdir(work_dir))
    assert [f for f in files if f.endswith('.pth')] == [
        'epoch_1.pth', 'epoch_2.pth'
    ]
    assert 'last_checkpoint' in files
    # mmengine dumps the merged config next to the checkpoints
    dumped = Config.fromfile(str(work_dir / 'toy_cli.py'))
    assert dumped.train_cfg.max_epochs == 2
    assert dumped.default_scope == 'mmmrhd'
    assert dumped.randomness.seed == 2018
    assert 'Epoch(val) [2][2/2]' in out and 'cli/mse' in out


def test_resume_auto_continues(trained, tmp_path):
    cwd, config, _ = trained
    work_dir = tmp_path / 'wd'
    src = cwd / 'work_dirs' / 'toy_cli'
    work_dir.mkdir()
    for name in ('epoch_2.pth', ):
        (work_dir / name).write_bytes((src / name).read_bytes())
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    out = _check(
        _run('train.py', config, '--work-dir', str(work_dir), '--resume',
             cwd=tmp_path))
    assert 'resumed epoch: 2, iter: 4' in out
    assert 'Epoch(train) [1]' not in out and 'Epoch(train) [3]' in out
    ckpt = torch.load(work_dir / 'epoch_3.pth', weights_only=False)
    assert ckpt['meta']['epoch'] == 3 and ckpt['meta']['iter'] == 6


def test_test_tool_reports_checkpoint_metric(trained, tmp_path):
    cwd, config, _ = trained
    ckpt_path = cwd / 'work_dirs' / 'toy_cli' / 'epoch_2.pth'
    _check(
        _run('test.py', config, str(ckpt_path), '--work-dir',
             str(tmp_path / 'test_wd'), cwd=tmp_path))
    logs = glob.glob(str(tmp_path / 'test_wd' / '*' / '*.json'))
    assert len(logs) == 1
    with open(logs[0]) as f:
        reported = json.load(f)['cli/mse']
    # the same number, computed here from the checkpoint weights
    model = CliToyModel()
    model.load_state_dict(
        torch.load(ckpt_path, weights_only=False)['state_dict'])
    data = CliToyDataset(offset=2)
    with torch.no_grad():
        expected = ((model(data.x) - data.y)**2).mean().item()
    assert reported == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- in-process


@pytest.fixture(scope='module')
def tool_train():
    return _load_tool('train')


@pytest.fixture(scope='module')
def tool_test():
    return _load_tool('test')


@pytest.fixture
def cfg_files(tmp_path, monkeypatch):
    """Empty config files in a temporary cwd (the tools check existence)."""
    monkeypatch.chdir(tmp_path)
    for name in ('configs/x/my_cfg.py', 'c.py', 'cfgs/t.py', 't.py'):
        os.makedirs(osp.dirname(name) or '.', exist_ok=True)
        open(name, 'w').close()


def _cfg(**kwargs) -> Config:
    base = dict(
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        randomness=dict(seed=2018, deterministic=False),
        val_cfg=dict(),
        val_dataloader=dict(batch_size=1),
        val_evaluator=dict(type='CliToyMetric'),
        test_evaluator=dict(type='CliToyMetric'))
    base.update(kwargs)
    return Config(base)


def test_missing_config_is_a_usage_error(tool_train, tool_test, tmp_path,
                                         capsys):
    missing = str(tmp_path / 'missing.py')
    for tool, extra in ((tool_train, []), (tool_test, ['x.pth'])):
        with pytest.raises(SystemExit) as err:
            tool.parse_args([missing, *extra])
        assert err.value.code == 2
        stderr = capsys.readouterr().err
        assert stderr.strip().splitlines()[-1].endswith(
            f'error: config file {missing} does not exist')


def test_train_args_defaults(tool_train, cfg_files):
    args = tool_train.parse_args(['configs/x/my_cfg.py'])
    cfg = tool_train.merge_args(_cfg(), args)
    assert cfg.work_dir == osp.join('./work_dirs', 'my_cfg')
    assert cfg.launcher == 'none'
    assert 'resume' not in cfg and cfg.randomness == dict(
        seed=2018, deterministic=False)
    assert cfg.optim_wrapper.get('type') is None
    # a work_dir in the config wins over the default, the CLI over both
    cfg = tool_train.merge_args(_cfg(work_dir='from_cfg'), args)
    assert cfg.work_dir == 'from_cfg'
    args = tool_train.parse_args(['c.py', '--work-dir', 'cli_dir'])
    assert tool_train.merge_args(_cfg(work_dir='x'), args).work_dir == \
        'cli_dir'


def test_train_args_resume_seed_validate(tool_train, cfg_files):
    args = tool_train.parse_args([
        'c.py', '--resume', 'a/epoch_3.pth', '--seed', '7', '--deterministic',
        '--diff-rank-seed', '--no-validate', '--launcher', 'pytorch',
        '--cfg-options', 'optim_wrapper.optimizer.lr=0.5'
    ])
    cfg = tool_train.merge_args(_cfg(), args)
    assert cfg.resume is True and cfg.load_from == 'a/epoch_3.pth'
    assert cfg.randomness == dict(
        seed=7, deterministic=True, diff_rank_seed=True)
    assert cfg.val_cfg is None and cfg.val_dataloader is None \
        and cfg.val_evaluator is None
    assert cfg.launcher == 'pytorch'
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    args = tool_train.parse_args(['c.py', '--resume'])
    cfg = tool_train.merge_args(_cfg(load_from='x.pth'), args)
    assert cfg.resume is True and cfg.load_from is None
    assert tool_train.parse_args(['c.py', '--local-rank', '3']).local_rank == 3


def test_train_amp(tool_train, cfg_files, monkeypatch):
    args = tool_train.parse_args(['c.py', '--amp'])
    monkeypatch.setattr(tool_train, 'get_device', lambda: 'cpu')
    with pytest.raises(SystemExit) as err:
        tool_train.merge_args(_cfg(), args)
    assert 'error: --amp needs a GPU' in str(err.value)
    assert '\n' not in str(err.value)
    monkeypatch.setattr(tool_train, 'get_device', lambda: 'cuda')
    cfg = tool_train.merge_args(_cfg(), args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    bad = _cfg(optim_wrapper=dict(type='MyWrapper', optimizer=dict()))
    with pytest.raises(ValueError, match='MyWrapper'):
        tool_train.merge_args(bad, args)
    with pytest.raises(KeyError, match='optim_wrapper in c.py'):
        tool_train.merge_args(_cfg(optim_wrapper=None), args)


def test_train_auto_scale_lr(tool_train, cfg_files):
    args = tool_train.parse_args(['c.py', '--auto-scale-lr'])
    cfg = tool_train.merge_args(
        _cfg(auto_scale_lr=dict(enable=False, base_batch_size=32)), args)
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=32)
    with pytest.raises(ValueError, match='base_batch_size'):
        tool_train.merge_args(_cfg(), args)


def test_test_args_and_dump(tool_test, cfg_files):
    args = tool_test.parse_args(
        ['cfgs/t.py', 'ckpt.pth', '--dump', 'out/preds.jsonl'])
    dump = dict(type='DumpSubmission', out_file='out/preds.jsonl')
    cfg = tool_test.merge_args(_cfg(), args)
    assert cfg.load_from == 'ckpt.pth'
    assert cfg.work_dir == osp.join('./work_dirs', 't')
    assert cfg.test_evaluator == [dict(type='CliToyMetric'), dump]
    # a list of metrics gets the dump appended
    cfg = tool_test.merge_args(
        _cfg(test_evaluator=[dict(type='A'), dict(type='B')]), args)
    assert cfg.test_evaluator == [dict(type='A'), dict(type='B'), dump]
    # an Evaluator dict gets it appended to its metrics
    cfg = tool_test.merge_args(
        _cfg(test_evaluator=dict(type='Evaluator', metrics=dict(type='A'))),
        args)
    assert cfg.test_evaluator == dict(
        type='Evaluator', metrics=[dict(type='A'), dump])
    no_dump = tool_test.merge_args(_cfg(), tool_test.parse_args(['t.py', 'c']))
    assert no_dump.test_evaluator == dict(type='CliToyMetric')
    with pytest.raises(ConfigError, match='test_evaluator'):
        tool_test.merge_args(Config(dict()), args)


# ------------------------------------------------------- launcher scripts


@pytest.fixture
def fake_launchers(tmp_path):
    """``torchrun`` and ``srun`` stubs that print their argv one per line."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('torchrun', 'srun'):
        stub = bin_dir / name
        stub.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n'
                        'echo "PYTHONPATH=$PYTHONPATH"\n')
        stub.chmod(0o755)
    env = dict(os.environ)
    env['PATH'] = f'{bin_dir}{os.pathsep}{env["PATH"]}'
    for key in ('NNODES', 'NODE_RANK', 'PORT', 'MASTER_ADDR', 'GPUS',
                'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'PYTHONPATH'):
        env.pop(key, None)
    return env


def _sh(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', osp.join(TOOLS, script), *args],
                          env=env,
                          stdin=subprocess.DEVNULL,
                          capture_output=True,
                          text=True,
                          timeout=30)


def test_dist_scripts_call_torchrun(fake_launchers):
    env = dict(fake_launchers, NNODES='2', NODE_RANK='1', PORT='29999',
               MASTER_ADDR='10.0.0.1')
    proc = _sh('dist_train.sh', 'cfg.py', '4', '--amp', '--seed', '3',
               env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1',
        '--master_port=29999', '--nproc_per_node=4',
        osp.join(TOOLS, 'train.py'), 'cfg.py', '--launcher', 'pytorch',
        '--amp', '--seed', '3', f'PYTHONPATH={TOOLS}/..'
    ]
    proc = _sh('dist_test.sh', 'cfg.py', 'c.pth', '2', '--dump', 'p.jsonl',
               env=fake_launchers)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:10] == [
        '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--master_port=29500', '--nproc_per_node=2',
        osp.join(TOOLS, 'test.py'), 'cfg.py', 'c.pth', '--launcher', 'pytorch'
    ]
    assert proc.stdout.splitlines()[10:12] == ['--dump', 'p.jsonl']


def test_slurm_scripts_call_srun(fake_launchers):
    env = dict(fake_launchers, GPUS='16', SRUN_ARGS='--qos=low --time=1:00')
    proc = _sh('slurm_train.sh', 'part', 'job', 'cfg.py', '--resume',
               env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:-1] == [
        '-p', 'part', '--job-name=job', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        '--qos=low', '--time=1:00', 'python', '-u',
        osp.join(TOOLS, 'train.py'), 'cfg.py', '--launcher', 'slurm',
        '--resume'
    ]
    proc = _sh('slurm_test.sh', 'part', 'job', 'cfg.py', 'c.pth',
               env=fake_launchers)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-6:-1] == [
        osp.join(TOOLS, 'test.py'), 'cfg.py', 'c.pth', '--launcher', 'slurm'
    ]


@pytest.mark.parametrize('script,args', [('dist_train.sh', ['cfg.py']),
                                         ('dist_test.sh', ['cfg.py', 'c']),
                                         ('slurm_train.sh', ['p', 'j']),
                                         ('slurm_test.sh', ['p', 'j', 'c'])])
def test_launcher_scripts_usage(fake_launchers, script, args):
    proc = _sh(script, *args, env=fake_launchers)
    assert proc.returncode == 2
    assert proc.stderr.startswith('usage: ') and proc.stdout == ''
