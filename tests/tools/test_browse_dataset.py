# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/analysis_tools/browse_dataset.py on the demo data."""
import glob
import os
import os.path as osp

import numpy as np
import pytest
from matplotlib.image import imread

from mmmrhd.datasets.demo import generate_demo_data

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'taskweave', 'taskweave_demo.py')


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis_tools/browse_dataset.py')


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    return generate_demo_data(
        str(tmp_path_factory.mktemp('browse') / 'demo'), 0, 16, 8)


def _options(demo_root, split='val'):
    return ['--cfg-options'] + [
        f'{split}_dataloader.dataset.{k}={v}'
        for k, v in (('data_root', demo_root), ('num_train', 16),
                     ('num_val', 8))
    ]


def test_plots_the_first_samples(tool, demo_root, tmp_path, capsys):
    out = tmp_path / 'browse'
    assert tool.main([DEMO_CFG, '--split', 'val', '--max', '3', '--out-dir',
                      str(out)] + _options(demo_root)) == 0
    files = sorted(glob.glob(str(out / '*.png')))
    assert [osp.basename(f)[:6] for f in files] == [
        '00000_', '00001_', '00002_'
    ]
    for f in files:
        assert os.path.getsize(f) > 0
        assert imread(f).shape[:2] == (320, 1000)  # MRHDVisualizer default
    assert capsys.readouterr().out.strip() == (
        f'3 of 8 val samples plotted to {out}')


def test_train_split_and_max_beyond_the_dataset(tool, demo_root, tmp_path):
    out = tmp_path / 'train'
    assert tool.main([DEMO_CFG, '--max', '100', '--out-dir', str(out)] +
                     _options(demo_root, 'train')) == 0
    assert len(glob.glob(str(out / '*.png'))) == 16


def test_sample_record_is_the_saliency_target(tool):
    info = dict(query='q', duration=9.0, clip_len=2.0, qid=3, vid='v',
                gt_windows=np.array([[2.0, 6.0]], np.float32),
                saliency_clip_ids=np.array([1, 2], np.int64),
                saliency_agg=np.array([7.0, 5.0]))
    record = tool.sample_record(info, num_clips=5)
    assert record['pred_saliency_scores'] == [0.0, 7.0, 5.0, 0.0, 0.0]
    assert record['pred_relevant_windows'] == []
    assert record['ann'] == dict(relevant_windows=[[2.0, 6.0]])
    assert record['duration'] == 9.0
    # HD-less data (Charades-STA): a flat curve
    bare = dict(info, saliency_clip_ids=None, saliency_agg=None)
    bare.pop('saliency_clip_ids')
    assert tool.sample_record(bare, 3)['pred_saliency_scores'] == [0.0] * 3
    assert tool.file_name(7, dict(vid='a/b c', qid=3)) == '00007_a-b-c_3.png'


def test_errors_are_one_line_exit_2(tool, demo_root, tmp_path, capsys):
    cfg = tmp_path / 'no_val.py'
    cfg.write_text("train_dataloader = dict(dataset=dict(type='X'))\n")
    with pytest.raises(SystemExit) as info:
        tool.run_main(tool.main, [str(cfg), '--split', 'val'])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f'error: {cfg} has no val_dataloader.dataset')
    # a feature file the dataset needs is missing: named
    broken = tmp_path / 'demo'
    generate_demo_data(str(broken), 0, 16, 8)
    victim = sorted(glob.glob(str(broken / 'clip_features' /
                              'demoval*.npz')))[0]
    os.remove(victim)
    with pytest.raises(SystemExit):
        tool.run_main(tool.main, [DEMO_CFG, '--split', 'val', '--out-dir',
                                  str(tmp_path / 'o')] +
                      _options(str(broken)))
    err = capsys.readouterr().err.splitlines()[0]
    assert err.startswith('error: ') and victim in err
