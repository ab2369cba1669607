# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave end to end on (small) demo data through the MMEngine Runner.

A tiny version of ``configs/taskweave/taskweave_demo.py`` (48 / 16 demo
queries, batch 8, 4 epochs, dropout 0.1 everywhere) trains with the
per-epoch EMA, the feedback activation hook and the RNG state hook; a run
interrupted after epoch 2 and resumed ends bit-identical to the
uninterrupted run; ``tools/test.py --dump`` writes the official submission
format, which scores exactly like the runner's own evaluation.
"""
import copy
import glob
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmmrhd.evaluation.functional import evaluate_qvhighlights, load_jsonl
from mmmrhd.registry import HOOKS
from mmmrhd.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO, 'configs', 'taskweave', 'taskweave_demo.py')
NUM_TRAIN, NUM_VAL = 48, 16
MAX_EPOCHS = 4
SUBMISSION_KEYS = ['qid', 'query', 'vid', 'pred_relevant_windows',
                   'pred_saliency_scores']


class _Stop(Exception):
    """Simulated crash."""


@HOOKS.register_module(force=True)
class _TWProbe(Hook):
    """Records the feedback switch per epoch and the validation metrics."""

    priority = 'LOW'  # after FeedbackActivationHook (NORMAL)

    def __init__(self):
        self.train_feedback, self.val_feedback, self.metrics = [], [], []

    def before_train_epoch(self, runner):
        self.train_feedback.append(
            (runner.epoch, runner.model.feedback_active))

    def before_val_epoch(self, runner):
        self.val_feedback.append((runner.epoch, runner.model.feedback_active))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics.append((runner.epoch, dict(metrics)))


@HOOKS.register_module(force=True)
class _TWStopAfter(Hook):
    """Raise after the checkpoint of (1-based) epoch ``epoch`` is saved."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            raise _Stop


def _cfg(demo_root, work_dir, extra_hooks=(), tag=''):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(DEMO_CFG)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(
            data_root=demo_root, num_train=NUM_TRAIN, num_val=NUM_VAL)
    cfg.train_dataloader.batch_size = 8
    # as the demo config: no workers; the label draws follow the torch RNG,
    # which RNGStateHook checkpoints, so resume is exact
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.val_dataloader.batch_size = 8
    cfg.test_dataloader.batch_size = 8
    # dropout on, so that resuming has random state to get right
    for part in ('video_proj', 'text_proj', 'fusion', 'decoder'):
        cfg.model[part].dropout = 0.1
    cfg.model.neck.shared_expert.dropout = 0.1
    cfg.train_cfg.update(max_epochs=MAX_EPOCHS, val_interval=2)
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=-1)
    cfg.default_hooks.logger.interval = 100
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='_TWProbe')] + list(
        extra_hooks)
    cfg.work_dir = str(work_dir)
    # MMEngine keeps one logger / visualizer instance per name per process
    cfg.experiment_name = osp.basename(str(work_dir)) + tag
    cfg.visualizer.name = f'vis_{cfg.experiment_name}'
    return cfg


def _probe(runner):
    return next(h for h in runner.hooks if isinstance(h, _TWProbe))


def _ckpt(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def full_run(demo_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('tw_full')
    runner = Runner.from_cfg(_cfg(demo_root, work_dir))
    runner.train()
    return runner, work_dir


def test_demo_config_is_the_paper_model():
    """The demo differs from taskweave_qvh.py only where it says so."""
    demo = Config.fromfile(DEMO_CFG)
    qvh = Config.fromfile(
        osp.join(REPO, 'configs', 'taskweave', 'taskweave_qvh.py'))
    assert demo.model.feedback == qvh.model.feedback
    for key in ('neck', 'decoder', 'fusion'):
        assert demo.model[key].type == qvh.model[key].type
    for key in ('moment_loss', 'saliency_loss', 'joint_loss'):
        assert demo.model[key] == qvh.model[key]
    assert demo.optim_wrapper.clip_grad == qvh.optim_wrapper.clip_grad
    assert demo.custom_hooks[:2] == qvh.custom_hooks[:2]
    assert demo.custom_hooks[2] == dict(
        type='FeedbackActivationHook', start_epoch=None)
    assert demo.model.post_processor.max_ts is None


def test_training_runs_with_ema_feedback_and_rng_hooks(full_run):
    runner, work_dir = full_run
    probe = _probe(runner)
    # FeedbackActivationHook(start_epoch=None): from max_epochs // 2 = 2
    assert probe.train_feedback == [(0, False), (1, False), (2, True),
                                    (3, True)]
    # validation follows the training state (official inference.py L191)
    assert probe.val_feedback == [(2, False), (4, True)]
    assert [e for e, _ in probe.metrics] == [2, 4]
    for _, metrics in probe.metrics:
        assert 0 <= metrics['MR-full-R1@0.5'] <= 100
        assert 0 <= metrics['HL-min-VeryGood-mAP'] <= 100
    best = glob.glob(osp.join(work_dir, 'best_MR-full-mAP_epoch_*.pth'))
    assert len(best) == 1
    ckpt = _ckpt(osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth'))
    assert 'rng_state' in ckpt and 'ema_state_dict' in ckpt


def test_checkpoints_hold_the_epoch_ema(full_run):
    """ema_4 = 0.9 ema_3 + 0.1 w_4 (official ModelEma, once per epoch):
    the saved state_dict is the EMA, ema_state_dict the raw weights."""
    _, work_dir = full_run
    prev, cur = (_ckpt(osp.join(work_dir, f'epoch_{e}.pth'))
                 for e in (MAX_EPOCHS - 1, MAX_EPOCHS))
    key = 'saliency_head.output.weight'
    raw = cur['ema_state_dict']['module.' + key]
    assert not torch.equal(cur['state_dict'][key], raw)
    expected = 0.9 * prev['state_dict'][key] + 0.1 * raw
    torch.testing.assert_close(
        cur['state_dict'][key], expected, rtol=1e-5, atol=1e-7)


def test_resume_matches_uninterrupted_run(full_run, demo_root,
                                          tmp_path_factory):
    full, full_dir = full_run
    work_dir = tmp_path_factory.mktemp('tw_resume')
    part = Runner.from_cfg(
        _cfg(demo_root, work_dir,
             [dict(type='_TWStopAfter', epoch=MAX_EPOCHS // 2)]))
    with pytest.raises(_Stop):
        part.train()
    assert osp.isfile(osp.join(work_dir, f'epoch_{MAX_EPOCHS // 2}.pth'))
    assert not osp.isfile(osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth'))
    cfg = _cfg(demo_root, work_dir, tag='_resumed')
    cfg.resume = True  # from the latest checkpoint in work_dir (epoch 2)
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    # same metrics at the end (the interrupted run never validated epoch 2,
    # which must not matter either)
    assert _probe(resumed).metrics == [_probe(full).metrics[-1]]
    a = _ckpt(osp.join(full_dir, f'epoch_{MAX_EPOCHS}.pth'))
    b = _ckpt(osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth'))
    for entry in ('state_dict', 'ema_state_dict'):
        assert a[entry].keys() == b[entry].keys()
        for k, v in a[entry].items():
            assert torch.equal(v, b[entry][k]), f'{entry}.{k}'


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'_tw_tools_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tools_test_dump_writes_official_submission(full_run, demo_root,
                                                    tmp_path):
    runner, work_dir = full_run
    cfg = _cfg(demo_root, tmp_path / 'cfg_wd')
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != '_TWProbe'
    ]
    cfg_path = str(tmp_path / 'tw_demo_small.py')
    cfg.dump(cfg_path)
    ckpt = osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth')
    out = str(tmp_path / 'preds' / 'val_preds.jsonl')
    test_dir = tmp_path / 'test_wd'
    _load_tool('test').main(
        [cfg_path, ckpt, '--work-dir',
         str(test_dir), '--dump', out])
    records = load_jsonl(out)
    gt = load_jsonl(osp.join(demo_root, 'highlight_val_release.jsonl'))
    assert [r['qid'] for r in records] == [g['qid'] for g in gt]
    for rec, ann in zip(records, gt):
        assert list(rec) == SUBMISSION_KEYS
        assert (rec['query'], rec['vid']) == (ann['query'], ann['vid'])
        windows = rec['pred_relevant_windows']
        assert len(windows) == 10  # all queries, no NMS (official)
        scores = [w[2] for w in windows]
        assert scores == sorted(scores, reverse=True)
        for st, ed, score in windows:
            # clamped to the video (max_ts=None), on the 2-s clip grid
            assert 0 <= st <= ed <= ann['duration']
            assert st % 2 == 0 and ed % 2 == 0 and 0 <= score <= 1
        assert len(rec['pred_saliency_scores']) == ann['duration'] // 2
    # the dump is exactly what the runner evaluated
    logs = glob.glob(str(test_dir / '*' / '*.json'))
    assert len(logs) == 1
    with open(logs[0]) as f:
        logged = json.load(f)
    brief = evaluate_qvhighlights(records, copy.deepcopy(gt))['brief']
    for key in ('MR-full-R1@0.5', 'MR-full-mAP', 'HL-min-VeryGood-mAP'):
        assert logged[key] == pytest.approx(brief[key], abs=1e-9), key
