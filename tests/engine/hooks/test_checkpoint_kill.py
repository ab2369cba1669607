# Copyright (c) mmmrhd contributors. All rights reserved.
"""``kill -9`` at every moment of a checkpoint save, then resume.

Each run is a real child process (``os.fork``) that trains a toy model with
:class:`~mmmrhd.engine.runner.MRHDRunner` and mmmrhd's ``CheckpointHook``
(``max_keep_ckpts=1``, ``save_best``) and kills itself with SIGKILL at a
named point of the n-th save (``MMMRHD_CKPT_FAULT``, see
:mod:`mmmrhd.utils.atomic_io`). After the kill, every ``*.pth`` on disk must
be complete, ``last_checkpoint`` must name an existing complete file, and a
resumed run must start from the newest complete checkpoint and end with
exactly the weights of an uninterrupted run.
"""
import glob
import json
import os
import os.path as osp
import re
import sys
import traceback

import pytest
import torch
from mmengine.hooks import Hook

from mmmrhd.engine.hooks import BEST_RECORD, best_checkpoint
from mmmrhd.engine.runner import MRHDRunner
from mmmrhd.testing.toy_regression import (ToyRegressionDataset,
                                          ToyRegressionMetric,
                                          ToyRegressionModel)
from mmmrhd.registry import DATASETS, HOOKS, METRICS, MODELS
from mmmrhd.utils.atomic_io import FAULT_ENV_VAR
from mmmrhd.utils.errors import CheckpointError

MAX_EPOCHS = 3
CHECKPOINT_ERROR = 3  # child exit code for a CheckpointError


DATASETS.register_module(
    name='KillToyDataset', module=ToyRegressionDataset, force=True)
MODELS.register_module(
    name='KillToyModel', module=ToyRegressionModel, force=True)
METRICS.register_module(
    name='KillToyMetric', module=ToyRegressionMetric, force=True)


@HOOKS.register_module(force=True)
class RecordStartHook(Hook):
    """Write the epoch training starts at (after resume) to a file."""

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file

    def before_train(self, runner) -> None:
        with open(self.out_file, 'w') as f:
            f.write(str(runner.epoch))


def _runner(work_dir: str, name: str, resume: bool = False) -> MRHDRunner:
    loader = dict(
        batch_size=4,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'))
    return MRHDRunner(
        model=dict(type='KillToyModel'),
        work_dir=work_dir,
        experiment_name=name,
        default_scope='mmmrhd',
        train_dataloader=dict(dataset=dict(type='KillToyDataset', num_samples=12),
            **loader),
        val_dataloader=dict(
            dataset=dict(type='KillToyDataset', num_samples=8, offset=1),
            **loader),
        val_evaluator=dict(type='KillToyMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.02)),
        train_cfg=dict(by_epoch=True, max_epochs=MAX_EPOCHS, val_interval=1),
        val_cfg=dict(),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=dict(
                type='CheckpointHook',
                interval=1,
                max_keep_ckpts=1,
                save_best='mse',
                rule='less')),
        custom_hooks=[
            # EMAHook swaps EMA/raw weights in the checkpoint on resume
            dict(type='EMAHook', momentum=0.2),
            dict(
                type='RecordStartHook',
                out_file=osp.join(work_dir, 'start_epoch.txt'))
        ],
        randomness=dict(seed=2018),
        resume=resume)


def _train(work_dir: str, name: str, resume: bool, fault: str) -> None:
    """The child: train (or resume) and save the final weights."""
    if fault:
        os.environ[FAULT_ENV_VAR] = fault
    else:
        os.environ.pop(FAULT_ENV_VAR, None)
    runner = _runner(work_dir, name, resume)
    runner.train()
    torch.save(runner.model.state_dict(), osp.join(work_dir, 'final.pt'))


def _in_child(*args) -> int:
    """Run :func:`_train` in a forked process; its exit code (-9: killed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (child)
        code = 1
        try:
            torch.set_num_threads(1)
            _train(*args)
            code = 0
        except CheckpointError as error:
            sys.stderr.write(f'CheckpointError: {error}\n')
            code = CHECKPOINT_ERROR
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _loadable(path: str) -> bool:
    try:
        torch.load(path, weights_only=False)
    except Exception:
        return False
    return True


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """The final weights of an uninterrupted run, and its files."""
    work_dir = str(tmp_path_factory.mktemp('reference'))
    assert _in_child(work_dir, 'kill_ref', False, '') == 0
    return work_dir, torch.load(osp.join(work_dir, 'final.pt'))


def test_uninterrupted_run_files(reference):
    work_dir, _ = reference
    names = sorted(osp.basename(p) for p in glob.glob(f'{work_dir}/*.pth'))
    best = [n for n in names if n.startswith('best_')]
    assert f'epoch_{MAX_EPOCHS}.pth' in names and len(best) == 1
    assert len(names) == 2  # max_keep_ckpts=1 and one best
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth')
    with open(osp.join(work_dir, BEST_RECORD)) as f:
        record = json.load(f)
    assert record['mse']['path'] == osp.join(work_dir, best[0])
    assert isinstance(record['mse']['score'], float)
    assert not glob.glob(f'{work_dir}/.*.part')
    # what `make demo` (tools/misc/best_checkpoint.py) reads
    assert best_checkpoint(work_dir) == record['mse']['path']
    assert best_checkpoint(work_dir, 'mse') == record['mse']['path']
    with pytest.raises(CheckpointError, match="no best checkpoint for 'acc'"):
        best_checkpoint(work_dir, 'acc')
    with pytest.raises(CheckpointError, match='best_checkpoints.json is'):
        best_checkpoint(osp.dirname(work_dir))


# Per epoch the hook saves epoch_N (1), best_mse_epoch_N (2) and epoch_N
# again to record the new best (3); so @4 is the first save of epoch 2, when
# epoch_1.pth is the only regular checkpoint (max_keep_ckpts=1), and @5 the
# best of epoch 2, when best_mse_epoch_1.pth is the only best one.
FAULTS = [
    'save:tmp_written@1',  # first save: nothing to resume (error)
    'save:tmp_truncated@1',
    'save:replaced@1',  # before last_checkpoint was ever written
    'save:tmp_truncated@2',  # the first best checkpoint, half written
    'save:tmp_written@4',  # epoch_2 not yet renamed: epoch_1 must survive
    'save:tmp_truncated@4',
    'save:replaced@4',  # epoch_2 complete, last_checkpoint still epoch_1
    'save:tmp_truncated@5',  # new best half written: old best must survive
    'hook:last_checkpoint_written@3',  # epoch_1.pth not yet deleted
    'hook:outdated_removed@3',
    'hook:best_saved@1',  # new best complete, old best not yet deleted
]


@pytest.mark.parametrize('fault', FAULTS)
def test_kill_during_save_then_resume(reference, tmp_path, fault):
    ref_dir, ref_weights = reference
    work_dir = str(tmp_path)
    tag = re.sub(r'\W', '_', fault)
    assert _in_child(work_dir, f'kill_{tag}', False, fault) == -9

    # every checkpoint on disk is complete; last_checkpoint names one
    pths = glob.glob(f'{work_dir}/*.pth')
    assert all(_loadable(p) for p in pths), pths
    step = int(fault.split('@')[1])
    if fault.startswith('save:') and step in (4, 5):
        # the previous regular / best checkpoint was kept
        kept = 'epoch_1.pth' if step == 4 else 'best_mse_epoch_1.pth'
        assert osp.join(work_dir, kept) in pths
    complete = sorted(
        int(m.group(1)) for p in pths
        for m in [re.match(r'epoch_(\d+)\.pth$', osp.basename(p))] if m)
    last_file = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(last_file):
        with open(last_file) as f:
            assert f.read() in pths
    elif complete:  # killed between the first rename and last_checkpoint
        assert fault == 'save:replaced@1'

    resumed = _in_child(work_dir, f'resume_{tag}', True, '')
    if not complete:  # killed during the very first save
        assert fault in ('save:tmp_written@1', 'save:tmp_truncated@1')
        assert resumed == CHECKPOINT_ERROR
        return
    assert resumed == 0
    with open(osp.join(work_dir, 'start_epoch.txt')) as f:
        assert int(f.read()) == complete[-1]
    final = torch.load(osp.join(work_dir, 'final.pt'))
    for key, value in ref_weights.items():
        assert torch.equal(final[key], value), key
    assert not glob.glob(f'{work_dir}/.*.part')
