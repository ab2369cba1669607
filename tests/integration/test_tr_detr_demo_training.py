# Copyright (c) mmmrhd contributors. All rights reserved.
"""TR-DETR and the mixed-parts model (TaskWeave + TR-DETR alignment losses)
train through the MMEngine Runner on (small) demo data.

Tiny versions of configs/tr_detr/tr_detr_demo.py and
configs/mixed/taskweave_tr-align_demo.py (48 / 16 demo queries, batch 8,
3 epochs): the alignment terms are computed and logged every iteration, the
training loss goes down, validation produces metrics and a best checkpoint.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmmrhd.registry import HOOKS
from mmmrhd.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'tr_detr': osp.join(REPO, 'configs', 'tr_detr', 'tr_detr_demo.py'),
    'mixed': osp.join(REPO, 'configs', 'mixed',
                      'taskweave_tr-align_demo.py'),
}
NUM_TRAIN, NUM_VAL, MAX_EPOCHS = 48, 16, 3


@HOOKS.register_module(force=True)
class _TRProbe(Hook):
    """Records the logged loss terms per iteration and the metrics."""

    priority = 'LOW'

    def __init__(self):
        self.iters, self.metrics = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.iters.append(
            (runner.epoch, {k: float(v) for k, v in outputs.items()}))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics.append((runner.epoch, dict(metrics)))


def _run(name, demo_root, work_dir):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(CONFIGS[name])
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(
            data_root=demo_root, num_train=NUM_TRAIN, num_val=NUM_VAL)
        cfg[key].batch_size = 8
    cfg.train_cfg.update(max_epochs=MAX_EPOCHS, val_interval=MAX_EPOCHS)
    cfg.default_hooks.checkpoint.update(interval=MAX_EPOCHS)
    cfg.default_hooks.logger.interval = 100
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='_TRProbe')]
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'tr_demo_{name}'
    cfg.visualizer.name = f'vis_tr_demo_{name}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_demo_training(name, demo_root, tmp_path):
    runner = _run(name, demo_root, tmp_path)
    probe = next(h for h in runner.hooks if isinstance(h, _TRProbe))
    assert len(probe.iters) == MAX_EPOCHS * NUM_TRAIN // 8
    for _, logs in probe.iters:
        assert torch.isfinite(torch.tensor(logs['loss']))
        # the alignment terms run every step, weighted 0.3 / 0.5
        assert logs['loss_vtc'] > 0 and logs['loss_ctc'] > 0
    first = [l['loss'] for e, l in probe.iters if e == 0]
    last = [l['loss'] for e, l in probe.iters if e == MAX_EPOCHS - 1]
    assert sum(last) / len(last) < sum(first) / len(first)
    assert [e for e, _ in probe.metrics] == [MAX_EPOCHS]
    metrics = probe.metrics[0][1]
    assert 0 <= metrics['MR-full-mAP'] <= 100
    assert 0 <= metrics['HL-min-VeryGood-mAP'] <= 100
    assert glob.glob(osp.join(str(tmp_path), 'best_MR-full-mAP_epoch_*.pth'))
    expected = 'TaskWeave' if name == 'mixed' else 'TRDETR'
    assert type(runner.model).__name__ == expected
