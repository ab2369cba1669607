# Copyright (c) mmmrhd contributors. All rights reserved.
"""The training log line of a real (short) Runner run on the demo data.

TaskWeave (``configs/taskweave/taskweave_demo.py``, 16 / 8 demo queries,
batch 8, 2 epochs, one line per iteration): the line shows ``loss``,
``loss_mr``, ``loss_hd`` and how many terms it leaves out; ``scalars.json``
holds every term; ``show_all=True`` gives MMEngine's line exactly; the
metric table has fixed 2 decimals.
"""
import glob
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import LogProcessor, Runner

from mmmrhd.engine.runner import MRHDLogProcessor
from mmmrhd.registry import LOG_PROCESSORS
from mmmrhd.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DEMO_CFG = osp.join(REPO, 'configs', 'taskweave', 'taskweave_demo.py')
#: Every term TaskWeave logs per iteration besides the three totals.
DETAIL_TERMS = [
    'loss_span', 'loss_giou', 'loss_label', 'class_error', 'loss_span_0',
    'loss_giou_0', 'loss_label_0', 'class_error_0', 'loss_saliency',
    'saliency_hinge', 'saliency_rank_contrastive', 'saliency_neg_pair',
    'hd_log_var', 'mr_log_var'
]


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(DEMO_CFG)
    demo_root = str(tmp_path_factory.mktemp('demo') / 'demo')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(data_root=demo_root, num_train=16, num_val=8)
    cfg.train_dataloader.update(batch_size=8, num_workers=0,
                                persistent_workers=False)
    cfg.val_dataloader.update(batch_size=8, num_workers=0,
                              persistent_workers=False)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=2, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(tmp_path_factory.mktemp('log_run'))
    cfg.experiment_name = 'mrhd_log_processor_test'
    cfg.visualizer.name = 'vis_mrhd_log_processor_test'
    runner = Runner.from_cfg(cfg)
    runner.train()
    torch.set_num_threads(threads)
    log_file = glob.glob(osp.join(cfg.work_dir, '*', '*.log'))[0]
    scalars = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data',
                                 'scalars.json'))[0]
    with open(log_file) as f:
        log = f.read()
    with open(scalars) as f:
        records = [json.loads(line) for line in f]
    return runner, log, records


def test_default_runtime_uses_it():
    cfg = Config.fromfile(DEMO_CFG)
    assert cfg.log_processor.type == 'MRHDLogProcessor'
    processor = LOG_PROCESSORS.build(cfg.log_processor)
    assert isinstance(processor, MRHDLogProcessor)
    assert processor.line_keys == ['loss', 'loss_mr', 'loss_hd']
    assert not processor.show_all and processor.window_size == 50


def test_train_line_shows_totals_and_scalars_hold_every_term(run):
    _, log, records = run
    lines = [ln for ln in log.splitlines() if 'Epoch(train)' in ln]
    train = [r for r in records if 'loss' in r]
    assert len(lines) == len(train) == 4  # 2 epochs x 2 iterations
    for line, record in zip(lines, train):
        items = dict(
            re.findall(r'(\S+): (\S+)', line.split('Epoch(train)')[1]))
        # the totals, with the values of the scalars (4 decimals)
        for key in ('loss', 'loss_mr', 'loss_hd'):
            assert items[key] == f'{record[key]:.4f}', key
        assert list(items)[-3:] == ['loss', 'loss_mr', 'loss_hd']
        # the runtime entries stay
        for key in ('lr', 'time', 'data_time', 'grad_norm'):
            assert key in items
        # no detail term in the line, all of them in the scalars
        for term in DETAIL_TERMS:
            assert term not in items, term
            assert isinstance(record[term], float), term
        assert line.endswith(f'(+{len(DETAIL_TERMS)} terms in the scalars)')
    # validation metrics per epoch are in the scalars too
    metrics = [r for r in records if 'MR-full-mAP' in r]
    assert [r['step'] for r in metrics] == [1, 2]


def test_show_all_is_mmengines_line(run):
    runner, _, _ = run
    ours = MRHDLogProcessor(window_size=50, by_epoch=True, show_all=True)
    mmengine = LogProcessor(window_size=50, by_epoch=True)
    tag, line = ours.get_log_after_iter(runner, 1, 'train')
    assert (tag, line) == mmengine.get_log_after_iter(runner, 1, 'train')
    for term in DETAIL_TERMS:
        assert f'  {term}: ' in line
    # the default: the same tag, the same line without the details
    short_tag, short = MRHDLogProcessor(
        window_size=50, by_epoch=True).get_log_after_iter(runner, 1, 'train')
    assert short_tag == tag
    dropped = [item for item in line.split('  ')
               if item.split(': ')[0] in DETAIL_TERMS + ['loss', 'loss_mr',
                                                        'loss_hd']]
    rest = [item for item in line.split('  ') if item not in dropped]
    assert short == '  '.join(
        [r for r in rest if r] + [
            f'loss: {tag["loss"]:.4f}', f'loss_mr: {tag["loss_mr"]:.4f}',
            f'loss_hd: {tag["loss_hd"]:.4f}',
            f'(+{len(DETAIL_TERMS)} terms in the scalars)'
        ])
    # other line keys, in the given order
    _, custom = MRHDLogProcessor(
        line_keys=['loss_hd', 'loss_giou', 'nonexistent'],
        window_size=50).get_log_after_iter(runner, 1, 'train')
    assert custom.endswith(f'loss_hd: {tag["loss_hd"]:.4f}  loss_giou: '
                           f'{tag["loss_giou"]:.4f}  (+15 terms in the '
                           'scalars)')
    # validation / test lines are MMEngine's
    for mode in ('val', 'test'):
        assert (ours.get_log_after_iter(runner, 0, mode) ==
                MRHDLogProcessor(window_size=50).get_log_after_iter(
                    runner, 0, mode))


def test_metric_table_has_fixed_decimals(run):
    _, log, records = run
    rows = re.findall(r'^\| (\S+) +\| +(\S+) \|$', log, re.M)
    values = [(k, v) for k, v in rows if k != 'metric']
    assert len(values) == 2 * 14  # 2 validations x 14 brief metrics
    assert all(re.fullmatch(r'\d+\.\d\d', v) for _, v in values)
    last = [r for r in records if 'MR-full-mAP' in r][-1]
    assert {k: float(v) for k, v in values[14:]} == {
        k: last[k] for k, _ in values[14:]}
