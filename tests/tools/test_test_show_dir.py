# Copyright (c) mmmrhd contributors. All rights reserved.
"""``tools/test.py --show-dir`` writes one plot per test query."""
import glob
import os
import os.path as osp
import subprocess
import sys

import torch
from matplotlib.image import imread
from mmengine.config import Config

from mmmrhd.engine.hooks import MRHDVisualizationHook, add_show_dir_hook
from mmmrhd.registry import MODELS, build_part

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'taskweave', 'taskweave_demo.py')


def test_add_show_dir_hook_appends():
    cfg = Config(dict(custom_hooks=[dict(type='RNGStateHook')]))
    add_show_dir_hook(cfg, 'out/vis')
    assert cfg.custom_hooks == [
        dict(type='RNGStateHook'),
        dict(type='MRHDVisualizationHook', draw=True, test_out_dir='out/vis')
    ]
    assert not MRHDVisualizationHook().draw  # off unless asked for


def test_tools_test_show_dir(tmp_path):
    cfg = Config.fromfile(DEMO_CFG)
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=build_part(MODELS, cfg.model).state_dict()),
               ckpt)
    show_dir = str(tmp_path / 'show')
    data_root = str(tmp_path / 'demo')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), DEMO_CFG,
         ckpt, '--work-dir', str(tmp_path / 'work'), '--show-dir', show_dir,
         '--cfg-options', f'test_dataloader.dataset.data_root={data_root}',
         'test_dataloader.dataset.num_train=4',
         'test_dataloader.dataset.num_val=3', 'test_dataloader.batch_size=2'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = sorted(glob.glob(osp.join(show_dir, '*.png')))
    assert len(pngs) == 3  # one per val query
    for png in pngs:
        assert imread(png).shape[:2] == (320, 1000)
        assert osp.basename(png).count('_') >= 1  # <vid>_<qid>.png
