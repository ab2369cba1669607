# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/analysis_tools/analyze_logs.py on a scalars.json written here."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from mmmrhd.utils.errors import DataError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'analyze_logs.py')

#: (epoch, iter, loss, loss_mr, time): 2 epochs of 3 iterations.
TRAIN = [(1, 1, 9.0, 4.0, 1.0), (1, 2, 7.0, 3.5, 0.2), (1, 3, 6.0, 3.0, 0.4),
         (2, 4, 5.0, 2.5, 0.9), (2, 5, 4.5, 2.0, 0.5), (2, 6, 4.0, 1.5, 0.7)]
#: (epoch, MR-full-mAP)
VAL = [(1, 10.21), (2, 25.5)]


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis_tools/analyze_logs.py')


def write_run(work_dir, stamp='20260101_000000', train=TRAIN, val=VAL):
    """MMEngine's layout: <work_dir>/<stamp>/vis_data/scalars.json."""
    vis = osp.join(str(work_dir), stamp, 'vis_data')
    os.makedirs(vis, exist_ok=True)
    path = osp.join(vis, 'scalars.json')
    with open(path, 'w') as f:
        records = [dict(lr=1e-3, data_time=0.01, loss=loss, loss_mr=mr,
                        loss_span=0.1 * i, time=t, epoch=e, iter=i, step=i)
                   for e, i, loss, mr, t in train]
        # LoggerHook writes a validation after the epoch's iterations
        for epoch, value in val:
            last = max(k for k, r in enumerate(records)
                       if r.get('epoch') == epoch)
            records.insert(last + 1, {'MR-full-mAP': value,
                                      'data_time': 0.02, 'time': 0.05,
                                      'step': epoch})
        for record in records:
            f.write(json.dumps(record) + '\n')
    return path


def test_series_per_iteration_and_per_epoch(tool, tmp_path):
    path = write_run(tmp_path)
    run = tool.load_scalars(path)
    assert len(run.train) == 6 and len(run.val) == 2
    loss = tool.series(run, 'loss')
    assert loss.x_name == 'iter'
    np.testing.assert_array_equal(loss.x, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(loss.y, [r[2] for r in TRAIN])
    mr = tool.series(run, 'loss_mr')
    np.testing.assert_array_equal(mr.y, [4.0, 3.5, 3.0, 2.5, 2.0, 1.5])
    metric = tool.series(run, 'MR-full-mAP')
    assert metric.x_name == 'epoch'
    np.testing.assert_array_equal(metric.x, [1, 2])
    np.testing.assert_array_equal(metric.y, [10.21, 25.5])
    # 'time' is in both kinds of record: the training one wins
    np.testing.assert_array_equal(tool.series(run, 'time').y,
                                  [r[4] for r in TRAIN])
    assert tool.available_keys(run) == [
        'lr', 'data_time', 'loss', 'loss_mr', 'loss_span', 'time',
        'MR-full-mAP'
    ]


def test_inputs_work_dir_run_dir_or_file(tool, tmp_path):
    old = write_run(tmp_path, '20260101_000000', val=[(1, 1.0)])
    new = write_run(tmp_path, '20260102_000000')
    assert tool.find_scalars(str(tmp_path)) == new  # the latest run
    assert tool.find_scalars(osp.dirname(osp.dirname(old))) == old
    assert tool.find_scalars(osp.dirname(old)) == old
    assert tool.find_scalars(old) == old
    with pytest.raises(DataError, match='no scalars.json found'):
        tool.find_scalars(str(tmp_path / '20260101_000000' / 'vis_data' /
                              '..' / '..' / '..'))


def test_plot_curve_writes_a_png(tool, tmp_path, capsys):
    write_run(tmp_path / 'a')
    write_run(tmp_path / 'b')
    out = tmp_path / 'fig' / 'curves.png'
    assert tool.main(['plot_curve', str(tmp_path / 'a'), str(tmp_path / 'b'),
                      '--keys', 'loss', 'MR-full-mAP', '--legend', 'A', 'B',
                      '--out', str(out), '--title', 't']) == 0
    assert out.stat().st_size > 0
    image = imread(str(out))
    assert image.shape[:2] == (580, 800)  # (2.6 * 2 keys + 0.6) in x 100 dpi
    assert 'plotted loss, MR-full-mAP of 2 run(s)' in capsys.readouterr().out


def test_cal_train_time(tool, tmp_path, capsys):
    write_run(tmp_path)
    run = tool.load_scalars(str(tmp_path))
    stats = tool.train_time(run)
    # first iteration of each epoch left out: [0.2, 0.4], [0.5, 0.7]
    assert stats['epochs'] == pytest.approx({1: 0.3, 2: 0.6})
    assert stats['slowest'] == (2, pytest.approx(0.6))
    assert stats['fastest'] == (1, pytest.approx(0.3))
    assert stats['std'] == pytest.approx(0.15)
    assert stats['mean'] == pytest.approx(0.45)
    full = tool.train_time(run, include_outliers=True)
    assert full['epochs'] == pytest.approx({1: 1.6 / 3, 2: 0.7})
    assert tool.main(['cal_train_time', str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        'slowest epoch 2, average time is 0.6000 s/iter',
        'fastest epoch 1, average time is 0.3000 s/iter',
        'time std over epochs is 0.1500',
        'average iter time: 0.4500 s/iter'
    ]


def test_errors_are_one_line_exit_2(tool, tmp_path, capsys):
    path = write_run(tmp_path)

    def error(*argv):
        with pytest.raises(SystemExit) as info:
            tool.run_main(tool.main, list(argv))
        assert info.value.code == 2
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith('error: ') and len(err) == 2
        return err[0]

    line = error('plot_curve', path, '--keys', 'loss', 'MR-full-mAp',
                 '--out', str(tmp_path / 'x.png'))
    assert line.startswith(f"error: key 'MR-full-mAp' is not in {path} (it "
                           'has: lr, data_time, loss,')
    assert not (tmp_path / 'x.png').exists()
    assert error('cal_train_time', str(tmp_path / 'nothing')) == (
        f'error: {tmp_path / "nothing"}: no such file or directory')
    with open(path, 'a') as f:
        f.write('{"loss": 1\n')
    assert error('plot_curve', path).startswith(
        f'error: {path}:9: not a JSON line')
    empty = tmp_path / 'empty.json'
    empty.write_text('\n')
    assert error('cal_train_time', str(empty)) == (
        f'error: {empty}: no scalars logged')


def test_subprocess_exit_status(tmp_path):
    path = write_run(tmp_path)
    proc = subprocess.run(
        [sys.executable, TOOL, 'plot_curve', path, '--keys', 'nope'],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: key 'nope' is not in {path}")
    assert not osp.exists(tmp_path / 'curves.png')
