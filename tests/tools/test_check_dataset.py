# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/misc/check_dataset.py and tools/train.py --check-data."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmmrhd.utils.errors import DataError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO_ROOT, 'tools')


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('misc/check_dataset.py')


def write_dataset(root, bad: bool) -> str:
    """Two queries on two videos (QVHighlights layout); a config file."""
    import json
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'sf'), exist_ok=True)
    os.makedirs(osp.join(root, 'text'), exist_ok=True)
    with open(osp.join(root, 'ann.jsonl'), 'w') as f:
        for q in (1, 2):
            f.write(json.dumps(dict(
                qid=q, query='q', vid=f'v{q}', duration=20,
                relevant_windows=[[0, 20]], relevant_clip_ids=[0],
                saliency_scores=[[1, 1, 1]])) + '\n')
    for q in (1, 2):
        np.savez(osp.join(root, 'sf', f'v{q}.npz'),
                 features=rng.normal(size=(10, 4)).astype(np.float32))
        np.savez(osp.join(root, 'text', f'qid{q}.npz'),
                 last_hidden_state=np.ones((3, 4), np.float32))
    if bad:
        with open(osp.join(root, 'sf', 'v1.npz'), 'wb') as f:
            f.write(b'garbage')  # once: "pickled data ... allow_pickle"
        np.savez(osp.join(root, 'sf', 'v2.npz'),
                 features=np.ones((5, 4), np.float32))  # 5 of 10 clips
    cfg = osp.join(root, 'cfg.py')
    with open(cfg, 'w') as f:
        f.write(f'''
dataset = dict(
    type='QVHighlightsDataset', ann_file='ann.jsonl', data_root={root!r},
    data_prefix=dict(video='sf', text='text'),
    pipeline=[dict(type='LoadVideoFeatures'), dict(type='LoadTextFeatures'),
              dict(type='PackMRHDInputs')])
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dict(dataset, test_mode=True))
''')
    return cfg


def test_clean_data_exits_0(tool, tmp_path, capsys):
    cfg = write_dataset(str(tmp_path), bad=False)
    assert tool.main([cfg, '--split', 'all', '--no-progress']) == 0
    out = capsys.readouterr().out
    assert '[train] 2 records, 4 feature files, input widths video 4, ' \
        'text 4: no problem(s)' in out
    assert '[val] same data as [train]' not in out  # test_mode differs
    assert '[val] 2 records' in out


def test_bad_data_lists_all_and_exits_2(tool, tmp_path, capsys):
    cfg = write_dataset(str(tmp_path), bad=True)
    assert tool.main([cfg]) == 2
    captured = capsys.readouterr()
    lines = [ln.strip() for ln in captured.out.splitlines()]
    assert any(ln.startswith('video feature file ') and
               ln.endswith('sf/v1.npz is not a valid .npz archive '
                           '(unrecognised content) (needed by qid 1)')
               for ln in lines), lines
    assert any('sf/v2.npz has 5 clips (10 s at clip_len 2), but qid 2 (vid '
               "'v2') is annotated up to 20 s, which needs at least 9 clips"
               in ln for ln in lines), lines
    assert '[train] 2 records, 2 feature files' not in captured.out
    assert captured.err.strip().splitlines()[-1] == (
        f'error: 2 data problem(s) found in {cfg} (train); see the list '
        'above')


def test_data_on_a_storage_backend(tool, tmp_path, capsys):
    """The same data served by a storage backend chosen in the config."""
    from mmmrhd.testing.storage import MemoryBackend, register_memory_backend
    local = tmp_path / 'local'
    write_dataset(str(local), bad=True)
    register_memory_backend('mmmrhd_test_check', prefixes=None)
    MemoryBackend.clear()
    MemoryBackend.load_dir(str(local), 'mem://qvh')
    cfg = tmp_path / 'remote.py'
    cfg.write_text(f'''
_base_ = [{str(local / 'cfg.py')!r}]
train_dataloader = dict(dataset=dict(
    data_root='mem://qvh', backend_args=dict(backend='mmmrhd_test_check')))
''')
    try:
        assert tool.main([str(cfg), '--no-progress']) == 2
        lines = [ln.strip() for ln in capsys.readouterr().out.splitlines()]
        assert lines[0] == '[train] checking mem://qvh/ann.jsonl'
        assert lines[1] == ('video feature file mem://qvh/sf/v1.npz is not '
                            'a valid .npz archive (unrecognised content) '
                            '(needed by qid 1)')
        assert lines[2].startswith('video feature file mem://qvh/sf/v2.npz '
                                   'has 5 clips')
        # a failing backend: named, the other files still checked
        MemoryBackend.files['mem://qvh/sf/v1.npz'] = \
            MemoryBackend.files['mem://qvh/sf/v2.npz']
        MemoryBackend.broken.add('mem://qvh/text/qid1.npz')
        assert tool.main([str(cfg), '--no-progress']) == 2
        lines = [ln.strip() for ln in capsys.readouterr().out.splitlines()]
        assert ('cannot read text feature file mem://qvh/text/qid1.npz from '
                'storage backend MemoryBackend: ConnectionError: connection '
                'reset by peer (needed by qid 1)') in lines
        assert sum('has 5 clips' in ln for ln in lines) == 2
    finally:
        MemoryBackend.clear()


def test_unusable_config_is_one_line_error(tool, tmp_path, capsys):
    cfg = write_dataset(str(tmp_path), bad=False)
    assert tool.main([cfg, '--split', 'test']) == 2
    assert capsys.readouterr().err.strip() == (
        'error: the config has no test_dataloader.dataset')


def test_subprocess_exit_status(tmp_path):
    cfg = write_dataset(str(tmp_path), bad=True)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'misc', 'check_dataset.py'), cfg],
        capture_output=True, text=True, timeout=120, env=env,
        stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().endswith('see the list above')


def test_train_check_data_flag(load_tool, tmp_path, capsys):
    from mmengine.config import Config
    train = load_tool('train.py')
    cfg_path = write_dataset(str(tmp_path), bad=True)
    args = train.parse_args([cfg_path, '--check-data'])
    assert args.check_data
    with pytest.raises(DataError, match=r'^--check-data found 2 data '
                       r'problem\(s\), listed above; fix them before '
                       'training$'):
        train.merge_args(Config.fromfile(cfg_path), args)
    assert 'sf/v1.npz is not a valid .npz archive' in capsys.readouterr().out
    # --no-validate drops the val split from the check; no flag, no check.
    good = write_dataset(str(tmp_path / 'good'), bad=False)
    args = train.parse_args([good, '--check-data', '--no-validate'])
    train.merge_args(Config.fromfile(good), args)
    out = capsys.readouterr().out
    assert '[train] 2 records' in out and '[val]' not in out
    args = train.parse_args([cfg_path])
    assert not args.check_data
    train.merge_args(Config.fromfile(cfg_path), args)
    assert capsys.readouterr().out == ''
