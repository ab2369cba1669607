# Copyright (c) mmmrhd contributors. All rights reserved.
"""demo/video_demo.py end to end on a tiny generated video."""
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from matplotlib.image import imread

pytest.importorskip('av')

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO_ROOT, 'demo', 'video_demo.py')
DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'taskweave', 'taskweave_demo.py')


def run_demo(tmp_path, *extra):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, DEMO, str(tmp_path / 'in' / 'tiny.mp4'),
         'a pattern drifts', 'a stripe flashes', '--config', DEMO_CFG,
         '--out-dir', str(tmp_path / 'out'), *extra],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)


def test_video_demo_end_to_end(tmp_path):
    # cwd = tmp_path: no work_dirs/taskweave_demo, so 'auto' falls back to a
    # random detector, as on a fresh machine
    proc = run_demo(tmp_path, '--generate', '--seconds', '6',
                    '--extractor', 'tiny', '--checkpoint', 'auto',
                    '--window-size', '2', '--stride', '1')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'PIPELINE CHECK, NOT MEANINGFUL PREDICTIONS' in proc.stdout
    out = tmp_path / 'out'
    result = json.loads((out / 'predictions.json').read_text())
    assert result['pipeline_check'] is True
    assert 'randomly initialised small backbones' in result['note']
    assert 'randomly initialised detector' in result['note']
    assert result['checkpoint'] is None
    assert not list(out.glob('random_detector_*.pth'))  # temp file removed
    records = result['predictions']
    assert [r['query'] for r in records] == ['a pattern drifts',
                                             'a stripe flashes']
    for record in records:
        assert list(record) == ['qid', 'query', 'vid',
                                'pred_relevant_windows',
                                'pred_saliency_scores']
        assert record['vid'] == 'tiny'
        assert len(record['pred_saliency_scores']) == 3  # ceil(6 s / 2 s)
        for st, ed, score in record['pred_relevant_windows']:
            assert 0 <= st <= ed <= 6.0 and 0 <= score <= 1
        png = out / f'tiny_{record["qid"]}.png'
        assert imread(str(png)).shape[:2] == (320, 1000)
    page = (out / 'tiny.html').read_text(encoding='utf-8')
    assert 'src="../in/tiny.mp4"' in page
    assert 'PIPELINE CHECK, NOT MEANINGFUL PREDICTIONS' in page
    assert page.count('data:image/png;base64,') == 2
    buttons = re.findall(r'onclick="seekTo\(([\d.]+), ([\d.]+)\)"', page)
    expected = [(str(float(st)), str(float(ed))) for r in records
                for st, ed, _ in r['pred_relevant_windows']]
    assert buttons == expected and buttons


def test_video_demo_uses_the_demo_trained_checkpoint(tmp_path):
    """`--checkpoint auto` takes the newest best_*.pth of make demo."""
    from mmengine.config import Config

    from mmmrhd.registry import MODELS, build_part
    work = tmp_path / 'work_dirs' / 'taskweave_demo'
    work.mkdir(parents=True)
    torch.manual_seed(0)
    model = build_part(MODELS, Config.fromfile(DEMO_CFG).model)
    ckpt = work / 'best_MR-full-mAP_epoch_60.pth'
    torch.save(dict(state_dict=model.state_dict()), str(ckpt))
    proc = run_demo(tmp_path, '--generate', '--seconds', '4',
                    '--checkpoint', 'auto')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'trained by `make demo`' in proc.stdout
    result = json.loads((tmp_path / 'out' / 'predictions.json').read_text())
    assert result['checkpoint'] == osp.join('work_dirs', 'taskweave_demo',
                                            ckpt.name)
    # still a pipeline check: the backbones are random
    assert result['pipeline_check'] is True
    assert 'randomly initialised small backbones' in result['note']
    assert 'randomly initialised detector' not in result['note']
    assert len(result['predictions'][0]['pred_saliency_scores']) == 2


def load_demo_module():
    spec = importlib.util.spec_from_file_location('video_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_video_demo_errors(tmp_path, capsys):
    demo = load_demo_module()
    base = [str(tmp_path / 'tiny.mp4'), 'q', '--config', DEMO_CFG,
            '--out-dir', str(tmp_path / 'out')]
    assert demo.main(base + ['--checkpoint', 'random']) == 2
    assert 'video file not found' in capsys.readouterr().err
    (tmp_path / 'tiny.mp4').write_bytes(b'x')
    assert demo.main(base + ['--checkpoint', str(tmp_path / 'no.pth')]) == 2
    assert '--checkpoint: file not found' in capsys.readouterr().err
    assert demo.main(base + ['--checkpoint', 'random', '--extractor',
                             str(tmp_path / 'no_cfg.py')]) == 2
    assert "no such config file" in capsys.readouterr().err
