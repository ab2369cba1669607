# Copyright (c) mmmrhd contributors. All rights reserved.
"""The OpenMMLab standard tools: print_config, get_flops, publish_model.

Run in-process through :func:`mmmrhd.utils.cli.run_main` (the code path of
``python tools/...``), on the demo configs.
"""
import copy
import gc
import hashlib
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import load_checkpoint
from torch import nn

from mmmrhd.utils.cli import run_main
from mmmrhd.utils.errors import ConfigError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TASKWEAVE_DEMO = osp.join(REPO_ROOT, 'configs/taskweave/taskweave_demo.py')
QD_DETR_DEMO = osp.join(REPO_ROOT, 'configs/qd_detr/qd_detr_demo.py')


@pytest.fixture(scope='module')
def print_config(load_tool):
    return load_tool('misc/print_config.py')


@pytest.fixture(scope='module')
def get_flops(load_tool):
    return load_tool('analysis_tools/get_flops.py')


@pytest.fixture(scope='module')
def publish_model(load_tool):
    return load_tool('misc/publish_model.py')


def _fails(capsys, tool, *argv) -> str:
    """Run ``tool.main`` via run_main; assert exit 2, return the one line."""
    with pytest.raises(SystemExit) as err:
        run_main(tool.main, list(argv))
    assert err.value.code == 2
    lines = [
        ln for ln in capsys.readouterr().err.splitlines()
        if 'error: ' in ln
    ]
    assert len(lines) == 1, lines
    return lines[0]


# ------------------------------------------------------------ print_config
def test_print_config_merges_bases_and_options(print_config, capsys,
                                               tmp_path):
    saved = tmp_path / 'merged.py'
    cfg = run_main(print_config.main, [
        TASKWEAVE_DEMO, '--cfg-options', 'train_cfg.max_epochs=3',
        'optim_wrapper.optimizer.lr=0.002', '--save-path',
        str(saved)
    ])
    out = capsys.readouterr().out
    assert out.startswith('Config:\n')
    # from the config itself, its bases and the options
    assert "default_scope = 'mmmrhd'" in out  # _base_/default_runtime.py
    assert "dataset_type = 'DemoQVHighlightsDataset'" in out  # datasets/demo
    assert 'embed_dim = 64' in out
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 5
    assert out.endswith(f'Saved the merged config to {saved}\n')
    # the saved file stands alone (no _base_) and is the same config
    assert '_base_' not in saved.read_text()
    reloaded = Config.fromfile(str(saved))
    assert reloaded.to_dict() == cfg.to_dict()
    assert reloaded.optim_wrapper.optimizer.lr == 0.002
    assert reloaded.optim_wrapper.optimizer.type == 'AdamW'


# MMEngine's Config.fromfile leaves a temporary file open when a config does
# not parse; it is reported when collected (gc.collect() below).
@pytest.mark.filterwarnings('ignore::pytest.PytestUnraisableExceptionWarning')
def test_print_config_errors(print_config, capsys, tmp_path):
    line = _fails(capsys, print_config, TASKWEAVE_DEMO, '--cfg-options',
                  'train_cf.max_epochs=3')
    assert line == (
        f"error: --cfg-options train_cf.max_epochs: 'train_cf' is not a key "
        f'of {TASKWEAVE_DEMO} nor a Runner setting; did you mean train_cfg?')
    line = _fails(capsys, print_config, TASKWEAVE_DEMO, '--save-path',
                  str(tmp_path / 'merged.txt'))
    assert line.startswith(f'error: --save-path {tmp_path}/merged.txt: the '
                           'file name must end in one of .py')
    broken = tmp_path / 'broken.py'
    broken.write_text("_base_ = ['missing_base.py']\n")
    line = _fails(capsys, print_config, str(broken))
    assert line.startswith(f'error: cannot load config {broken}: '
                           'FileNotFoundError')
    broken.write_text('model = dict(\n')
    assert _fails(capsys, print_config, str(broken)).startswith(
        f'error: cannot load config {broken}: SyntaxError')
    gc.collect()
    missing = str(tmp_path / 'missing.py')
    with pytest.raises(SystemExit) as err:
        print_config.parse_args([missing])
    assert err.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        f'error: config file {missing} does not exist')


# --------------------------------------------------------------- get_flops
class _Attention(nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def test_sdpa_flops_by_hand(get_flops):
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), torch.randn(
        2, 4, 7, 6)
    analyzer = FlopAnalyzer(_Attention(), (q, k, v))
    analyzer.set_op_handle(**get_flops.FLOP_HANDLES)
    # Q K^T: 2*4 * 5*7*8 = 2240; A V: 2*4 * 5*7*6 = 1680
    assert analyzer.total() == 2240 + 1680


@pytest.fixture(scope='module')
def qd_detr_flops(get_flops):
    cfg = Config.fromfile(QD_DETR_DEMO)
    return cfg, get_flops.complexity(cfg, num_clips=20, text_len=10)


def test_get_flops_counts(get_flops, qd_detr_flops):
    cfg, result = qd_detr_flops
    model = get_flops.build_model(cfg)
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['params'] == 335589  # configs/qd_detr/metafile.yml
    assert result['shapes'] == dict(
        video_feat=(1, 20, 98),
        video_mask=(1, 20),
        text_feat=(1, 10, 32),
        text_mask=(1, 10))
    by_module = result['by_module']
    # first input projections: Linear(98 -> 64) on 20 clips, (32 -> 64) on
    # 10 tokens; one multiply-add = 1 FLOP
    assert by_module['video_proj.layers.0.fc'] == 20 * 98 * 64
    assert by_module['text_proj.layers.0.fc'] == 10 * 32 * 64
    assert by_module[''] == result['flops']
    assert sum(by_module[name] for name, _ in model.named_children()
               ) == result['flops']
    # attention is counted (mmengine alone would count 0 for it)
    assert by_module['encoder'] > sum(
        by_module[f'encoder.layers.{i}.linear{j}'] for i in (0, 1)
        for j in (1, 2))
    assert 'video_proj' in result['out_table']


def test_get_flops_cli(get_flops, qd_detr_flops, capsys):
    _, expected = qd_detr_flops
    result = run_main(get_flops.main,
                      [QD_DETR_DEMO, '--shape', '20', '--text-len', '10'])
    assert result['flops'] == expected['flops']
    out = capsys.readouterr().out
    assert ('Input shape: video (1, 20, 98), text (1, 10, 32) (inference '
            'forward)') in out
    assert f'Flops: {result["flops_str"]} ({expected["flops"]})' in out
    assert 'Params: 336K (335589)' in out


def test_get_flops_errors(get_flops, capsys):
    line = _fails(capsys, get_flops, QD_DETR_DEMO, '--shape', '0')
    assert line == 'error: --shape must be a positive integer, got 0'
    with pytest.raises(ConfigError, match='has no video_proj'):
        get_flops.input_widths(nn.Linear(2, 2))
    line = _fails(capsys, get_flops, QD_DETR_DEMO, '--cfg-options',
                  'modle.embed_dim=8')
    assert "'modle' is not a key" in line and 'did you mean model?' in line


# ----------------------------------------------------------- publish_model
class _RunsShell:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(scope='module')
def model_and_checkpoint(get_flops, tmp_path_factory):
    """A demo model and an MMEngine-like training checkpoint of it."""
    model = get_flops.build_model(Config.fromfile(QD_DETR_DEMO))
    state = model.state_dict()
    path = tmp_path_factory.mktemp('publish') / 'epoch_3.pth'
    buffer = HistoryBuffer()
    buffer.update(0.5)
    torch.save(
        dict(
            meta=dict(
                epoch=3,
                iter=57,
                seed=np.int64(2018),
                cfg="model = dict(type='QDDETR')",
                dataset_meta=dict(name='demo', durations=np.arange(3.0)),
                mmengine_version='0.10.7'),
            state_dict=state,
            optimizer=dict(state={0: dict(exp_avg=torch.ones(3))}),
            param_schedulers=[dict(last_epoch=3)],
            message_hub=dict(log_scalars={'train/loss': buffer}),
            ema_state_dict={k: v.clone() for k, v in state.items()}), path)
    return model, str(path)


def test_publish_model(publish_model, model_and_checkpoint, tmp_path, capsys):
    model, in_file = model_and_checkpoint
    final = run_main(publish_model.main,
                     [in_file, str(tmp_path / 'qd_detr_demo.pth')])
    match = re.fullmatch(rf'{tmp_path}/qd_detr_demo-([0-9a-f]{{8}})\.pth',
                         final)
    assert match, final
    with open(final, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert sha.startswith(match.group(1))
    out = capsys.readouterr().out
    assert 'Removed from the checkpoint: optimizer, param_schedulers, ' \
        'message_hub, ema_state_dict' in out
    assert out.endswith(f'sha256 {sha}\n')
    assert os.listdir(tmp_path) == [osp.basename(final)]  # no temp file
    # plain torch, no allowlist
    ckpt = torch.load(final, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta'] == dict(
        epoch=3,
        iter=57,
        seed=2018,
        cfg="model = dict(type='QDDETR')",
        dataset_meta=dict(name='demo', durations=[0.0, 1.0, 2.0]),
        mmengine_version='0.10.7')
    assert type(ckpt['meta']['seed']) is int
    state = model.state_dict()
    assert list(ckpt['state_dict']) == list(state)
    for key, value in state.items():
        assert torch.equal(ckpt['state_dict'][key], value), key
    # and into a re-initialised model through MMEngine's loader
    copy = _load_into_new_model(model, final)
    for key, value in copy.state_dict().items():
        assert torch.equal(value, state[key]), key


def _load_into_new_model(model: nn.Module, path: str) -> nn.Module:
    """A zeroed copy of ``model`` with ``path`` loaded (strict)."""
    new = copy.deepcopy(model)
    for p in new.parameters():
        nn.init.zeros_(p)
    load_checkpoint(new, path, map_location='cpu', strict=True)
    return new


def test_publish_model_errors(publish_model, model_and_checkpoint, tmp_path,
                              capsys):
    _, in_file = model_and_checkpoint
    out = str(tmp_path / 'x.pth')
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _RunsShell(str(marker))}, evil)
    line = _fails(capsys, publish_model, str(evil), out)
    assert line.startswith(f'error: Refused to unpickle checkpoint {evil}')
    assert 'MMMRHD_TRUST_CHECKPOINTS=1' in line and not marker.exists()
    missing = tmp_path / 'missing.pth'
    assert _fails(capsys, publish_model, str(missing), out) == (
        f'error: checkpoint {missing} can not be found.')
    bare = tmp_path / 'bare.pth'
    torch.save({'fc.weight': torch.ones(2)}, bare)
    assert _fails(capsys, publish_model, str(bare), out) == (
        f"error: {bare} is not an MMEngine checkpoint: no state_dict dict "
        "(top-level keys: ['fc.weight'])")
    odd = tmp_path / 'odd_meta.pth'
    buffer = HistoryBuffer()
    buffer.update(1.0)  # an allowed global, but not plain data
    torch.save({'state_dict': {}, 'meta': {'hub': buffer}}, odd)
    assert _fails(capsys, publish_model, str(odd), out) == (
        f'error: {odd}: meta.hub is a mmengine.logging.history_buffer.'
        'HistoryBuffer, not plain data; drop the key with --save-keys or '
        'remove it from the checkpoint')
    assert _fails(capsys, publish_model, in_file,
                  str(tmp_path / 'no_dir' / 'x.pth')) == (
                      f'error: output directory {tmp_path}/no_dir does not '
                      'exist')
    assert sorted(os.listdir(tmp_path)) == [
        'bare.pth', 'evil.pth', 'odd_meta.pth'
    ]
