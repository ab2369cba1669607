# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/train.py and tools/test.py: checkpoint safety and one-line errors.

End-to-end runs as subprocesses (exit codes, ``kill -9``) and in-process
runs through :func:`mmmrhd.utils.cli.run_main` (the same code path, without
the import cost). The toy model, data and config come from
``test_train_test_cli``.
"""
import glob
import os
import os.path as osp
import uuid

import pytest
import torch
from test_train_test_cli import _check, _load_tool, _run, _toy_config

from mmmrhd.utils.atomic_io import FAULT_ENV_VAR
from mmmrhd.utils.cli import DEBUG_ENV_VAR, run_main
from mmmrhd.utils.errors import CheckpointError


class _RunsShell:
    """A pickle payload that would create ``marker`` when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _error_line(stderr: str) -> str:
    """The ``error:`` line; asserts that no traceback was printed."""
    assert 'Traceback' not in stderr, stderr[-3000:]
    lines = [ln for ln in stderr.splitlines() if ln.startswith('error: ')]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('tool_errors')
    config = _toy_config(root / 'toy_cli.py')
    good = root / 'good.pth'
    torch.save({'state_dict': {'fc.weight': torch.ones(1, 3),
                               'fc.bias': torch.zeros(1)}}, good)
    return root, config, good


def test_test_tool_refuses_code_in_checkpoint(setup, tmp_path):
    _, config, _ = setup
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _RunsShell(str(marker))}, evil)
    proc = _run('test.py', config, str(evil), '--work-dir',
                str(tmp_path / 'wd'), cwd=tmp_path)
    assert proc.returncode == 2
    line = _error_line(proc.stderr)
    assert line.startswith(f'error: Refused to unpickle checkpoint {evil}')
    assert 'posix.system' in line and 'MMMRHD_TRUST_CHECKPOINTS=1' in line
    assert not marker.exists()


def test_test_tool_refuses_checkpoint_of_another_model(setup, tmp_path):
    _, config, _ = setup
    other = tmp_path / 'other_size.pth'
    torch.save({'state_dict': {'fc.weight': torch.ones(1, 5),
                               'fc.bias': torch.zeros(1)}}, other)
    proc = _run('test.py', config, str(other), '--work-dir',
                str(tmp_path / 'wd'), cwd=tmp_path)
    assert proc.returncode == 2
    line = _error_line(proc.stderr)
    assert f'checkpoint {other} does not fit the model CliToyModel' in line
    assert 'fc.weight: checkpoint [1, 5] vs model [1, 3]' in line
    assert '--cfg-options strict_load=False' in line
    assert 'cli/mse' not in proc.stdout  # no metric table was printed


def test_kill_during_save_then_resume_with_the_tools(setup, tmp_path):
    _, config, _ = setup
    work_dir = tmp_path / 'wd'
    opts = ['--work-dir', str(work_dir), '--cfg-options',
            'default_hooks.checkpoint.max_keep_ckpts=1']
    os.environ[FAULT_ENV_VAR] = 'save:tmp_truncated@2'  # epoch 2, half
    try:
        proc = _run('train.py', config, *opts, cwd=tmp_path)
    finally:
        del os.environ[FAULT_ENV_VAR]
    assert proc.returncode == -9, proc.stderr[-3000:]
    assert sorted(os.listdir(work_dir / '..' / 'wd')).count('epoch_1.pth')
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read() == str(work_dir / 'epoch_1.pth')
    out = _check(_run('train.py', config, *opts, '--resume', cwd=tmp_path))
    assert 'resumed epoch: 1, iter: 2' in out
    assert 'Epoch(train) [2]' in out and 'Epoch(train) [3]' in out
    assert sorted(glob.glob(f'{work_dir}/*.pth')) == [
        str(work_dir / 'epoch_3.pth')
    ]
    assert not glob.glob(f'{work_dir}/.*.part')


# ---------------------------------------------------------------- in-process


@pytest.fixture(scope='module')
def tools():
    return _load_tool('train'), _load_tool('test')


def _in_process(tool, argv, capsys) -> str:
    """Run ``tool`` through run_main; expect exit 2; return the error."""
    with pytest.raises(SystemExit) as err:
        run_main(tool.main, argv)
    assert err.value.code == 2
    return _error_line(capsys.readouterr().err)


def _name() -> list:
    """Distinct logger / visualizer names for each in-process runner."""
    name = f't{uuid.uuid4().hex[:8]}'
    return [f'experiment_name={name}', f'visualizer.name={name}']


def test_unreadable_checkpoints(setup, tools, tmp_path, capsys):
    _, config, _ = setup
    _, test_tool = tools
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'text.pth').write_text('not a checkpoint\n')
    torch.save({'state_dict': {'fc.weight': torch.ones(1, 3)}},
               tmp_path / 'full.pth')
    raw = (tmp_path / 'full.pth').read_bytes()
    (tmp_path / 'truncated.pth').write_bytes(raw[:len(raw) // 2])
    for name in ('empty.pth', 'text.pth', 'truncated.pth', 'missing.pth'):
        path = str(tmp_path / name)
        line = _in_process(test_tool, [
            config, path, '--work-dir',
            str(tmp_path / 'wd'), '--cfg-options',
            *_name()
        ], capsys)
        assert path in line, line


def test_resume_with_nothing_to_resume(setup, tools, tmp_path, capsys):
    _, config, _ = setup
    train_tool, _ = tools
    def argv(*extra):
        return [config, '--work-dir', str(tmp_path / 'empty_wd'), '--resume',
                *extra, '--cfg-options', *_name()]

    line = _in_process(train_tool, argv(), capsys)
    assert line.startswith(
        f'error: nothing to resume in work dir {tmp_path / "empty_wd"}')
    # --debug and MMMRHD_DEBUG=1 show the traceback instead
    with pytest.raises(CheckpointError, match='nothing to resume'):
        run_main(train_tool.main, argv('--debug'))
    os.environ[DEBUG_ENV_VAR] = '1'
    try:
        with pytest.raises(CheckpointError, match='nothing to resume'):
            run_main(train_tool.main, argv())
    finally:
        del os.environ[DEBUG_ENV_VAR]


def test_cfg_options_errors(setup, tools, tmp_path, capsys):
    _, config, good = setup
    train_tool, test_tool = tools
    with pytest.raises(SystemExit) as err:
        run_main(train_tool.main, [config, '--cfg-options', 'train_cfg'])
    assert err.value.code == 2
    assert "expected KEY=VALUE, got 'train_cfg'" in capsys.readouterr().err
    line = _in_process(train_tool, [config, '--cfg-options', 'randomnes.seed=5'],
                       capsys)
    assert "'randomnes' is not a key of" in line
    assert 'did you mean randomness' in line
    # known Runner keys absent from the config are fine (e.g. resume)
    line = _in_process(
        test_tool,
        [config, str(tmp_path / 'x.pth'), '--cfg-options', 'resume=False',
         'strict_lod=False'], capsys)
    assert 'did you mean strict_load' in line


def test_partial_loading_opt_out(setup, tools, tmp_path, capsys):
    _, config, _ = setup
    _, test_tool = tools
    extra = tmp_path / 'extra_keys.pth'
    torch.save({'state_dict': {'fc.weight': torch.ones(1, 3),
                               'fc.bias': torch.zeros(1),
                               'head.w': torch.ones(2)}}, extra)
    base = [config, str(extra), '--work-dir', str(tmp_path / 'wd')]
    line = _in_process(test_tool, base + ['--cfg-options', *_name()], capsys)
    assert '1 unexpected key(s) [head.w]' in line
    run_main(test_tool.main,
             base + ['--cfg-options', 'strict_load=False', *_name()])
    out = capsys.readouterr().out
    assert 'Partial loading of' in out and 'cli/mse' in out
