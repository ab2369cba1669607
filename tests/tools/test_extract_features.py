# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/misc/extract_features.py: layout, provenance, bad-video report,
resume, text features, dataset-loader round trip, 2-process CPU run."""
import importlib.util
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmmrhd.datasets.transforms import LoadTextFeatures, LoadVideoFeatures
from mmmrhd.datasets.transforms.feature_io import l2_normalize
from mmmrhd.registry import MODELS
from mmmrhd.testing.extractor import tiny_extractor_cfg
from mmmrhd.utils.errors import UserError

pytest.importorskip('av')
from mmmrhd.testing.video import (make_audio_only_file,  # noqa: E402
                                  make_test_video)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'misc', 'extract_features.py')


def _tool():
    spec = importlib.util.spec_from_file_location('extract_features', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('extract')
    videos = root / 'videos'
    videos.mkdir()
    make_test_video(str(videos / 'v1.mp4'), fps=25, num_frames=80)
    make_test_video(str(videos / 'v2.mkv'), fps='30000/1001',
                    num_frames=100, seed=1)
    make_test_video(str(videos / 'v3.mp4'), fps=60, num_frames=150, seed=2)
    make_audio_only_file(str(videos / 'a1.m4a'))
    (videos / 'empty.mp4').write_bytes(b'')
    (videos / 'junk.mp4').write_bytes(os.urandom(2048))
    (root / 'list.txt').write_text(
        'v1.mp4\nv2\nempty.mp4\na1.m4a\n\nmissing.mp4\njunk.mp4\nv3.mp4\n')
    with open(root / 'ann.jsonl', 'w') as f:
        for qid, (vid, query) in enumerate([('v1', 'a man walks'),
                                            ('v2', 'a dog runs!'),
                                            ('v1', 'people talk')]):
            f.write(json.dumps(dict(qid=qid, vid=vid, query=query)) + '\n')
    (root / 'tiny.py').write_text(
        f'extractor = {tiny_extractor_cfg()!r}\nrecipe = "tiny test"\n')
    return root


def _args(ws, out, *extra, listing=('--video-list', 'list.txt')):
    return [str(ws / 'tiny.py'), '--video-root', str(ws / 'videos'),
            listing[0], str(ws / listing[1]), '--out-dir', str(out), *extra]


def test_extract_layout_meta_and_failures(workspace, tmp_path):
    out = tmp_path / 'out'
    assert _tool().main(_args(workspace, out)) == 1  # some videos failed
    for stream, dim in (('slowfast', 288), ('clip', 16)):
        names = sorted(os.listdir(out / f'{stream}_features'))
        assert names == ['v1.npz', 'v2.npz', 'v3.npz']
        with np.load(out / f'{stream}_features' / 'v1.npz') as f:
            assert f.files == ['features']
            assert f['features'].dtype == np.float16
            assert f['features'].shape[1] == dim
    # v1: 80 frames at 25 fps = 3.2 s -> 2 SlowFast rows; CLIP
    # round(3.2 * 0.5) = 2 frames. v3: 2.5 s -> 2 rows and 1 frame.
    with np.load(out / 'slowfast_features' / 'v3.npz') as f:
        assert f['features'].shape == (2, 288)
    with np.load(out / 'clip_features' / 'v3.npz') as f:
        assert f['features'].shape == (1, 16)
    meta = json.loads((out / 'extraction_meta.json').read_text())
    assert meta['recipe'] == 'tiny test'
    assert meta['videos'] == dict(listed=7, extracted=3, skipped_existing=0,
                                  failed=4)
    reasons = {f['vid']: f['reason'] for f in meta['failed_videos']}
    assert sorted(reasons) == ['a1', 'empty', 'junk', 'missing']
    assert 'no video stream' in reasons['a1']
    assert 'empty' in reasons['empty']
    assert 'not found' in reasons['missing']
    assert 'junk.mp4' in reasons['junk']
    assert meta['streams'][0] == dict(name='slowfast', dim=288, clip_len=2.0,
                                      fps=30.0)
    assert meta['storage_dtype'] == 'float16'
    assert meta['versions']['av'] and 'libavfilter' in meta['versions'][
        'ffmpeg_libraries (PyAV bundled)']
    assert meta['world_size'] == 1


def test_files_equal_in_memory_features_through_the_loaders(workspace,
                                                            tmp_path):
    """extract -> .npz -> LoadVideoFeatures equals the in-memory path."""
    out = tmp_path / 'out'
    _tool().main(_args(workspace, out, '--text',
                       listing=('--ann-file', 'ann.jsonl')))
    torch.manual_seed(0)  # the tool's default seed
    extractor = MODELS.build(tiny_extractor_cfg())
    memory = extractor.extract_video(str(workspace / 'videos' / 'v2.mkv'))
    stored = {
        s: np.load(out / f'{s}_features' / 'v2.npz')['features']
        for s in ('slowfast', 'clip')
    }
    results = LoadVideoFeatures(max_len=None)(dict(
        vid='v2', qid=1,
        video_feat_dirs=[str(out / 'slowfast_features'),
                         str(out / 'clip_features')]))
    shortest = min(len(v) for v in stored.values())
    expected = np.concatenate([
        l2_normalize(stored[s].astype(np.float32))[:shortest]
        for s in ('slowfast', 'clip')
    ], 1)
    assert np.array_equal(results['video_feat'], expected)
    for stream in stored:
        assert np.array_equal(stored[stream].astype(np.float32),
                              memory[stream])
    # text features: keys and loader
    with np.load(out / 'clip_text_features' / 'qid1.npz') as f:
        assert sorted(f.files) == ['last_hidden_state', 'pooler_output']
        # 'a dog runs!' = 11 characters + SOT + EOT
        assert f['last_hidden_state'].shape == (13, 32)
        assert f['pooler_output'].shape == (16, )
    text = LoadTextFeatures()(dict(
        qid=1, vid='v2', text_feat_dirs=[str(out / 'clip_text_features')]))
    query = extractor.extract_text(['a dog runs!'])[0]
    assert np.array_equal(text['text_feat'],
                          l2_normalize(query['last_hidden_state']))


def test_skip_existing_resumes(workspace, tmp_path):
    out = tmp_path / 'out'
    tool = _tool()
    tool.main(_args(workspace, out))
    v1 = out / 'slowfast_features' / 'v1.npz'
    mtime = v1.stat().st_mtime_ns
    os.remove(out / 'clip_features' / 'v2.npz')
    assert tool.main(_args(workspace, out, '--skip-existing')) == 1
    meta = json.loads((out / 'extraction_meta.json').read_text())
    assert meta['videos']['skipped_existing'] == 2  # v1, v3
    assert meta['videos']['extracted'] == 1  # v2 had a stream missing
    assert v1.stat().st_mtime_ns == mtime
    assert (out / 'clip_features' / 'v2.npz').is_file()
    assert not [p for p in os.listdir(out / 'clip_features')
                if '.tmp' in p]


def test_user_errors(workspace, tmp_path):
    tool = _tool()
    with pytest.raises(UserError, match='does not exist'):
        tool.main([str(tmp_path / 'nope.py'), '--video-root', '.',
                   '--video-list', 'x', '--out-dir', str(tmp_path)])
    with pytest.raises(UserError, match='video list not found'):
        tool.main(_args(workspace, tmp_path / 'o',
                        listing=('--video-list', 'nolist.txt')))
    with pytest.raises(SystemExit):
        tool.main(_args(workspace, tmp_path / 'o', '--text'))
    cfg = workspace / 'weights.py'
    stream = tiny_extractor_cfg()
    stream['streams'][0]['pretrained'] = str(tmp_path / 'missing.pkl')
    cfg.write_text(f'extractor = {stream!r}\n')
    proc = subprocess.run(
        [sys.executable, TOOL, str(cfg), '--video-root',
         str(workspace / 'videos'), '--video-list',
         str(workspace / 'list.txt'), '--out-dir', str(tmp_path / 'o')],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: backbone weights not found')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_cpu_extraction(workspace, tmp_path):
    """torchrun, 2 CPU processes (gloo): each rank writes its share, the
    result equals the single-process run bitwise."""
    single, multi = tmp_path / 'single', tmp_path / 'multi'
    # Same thread count as the ranks (OMP_NUM_THREADS=1 below): with 1 and 2
    # threads the CPU kernels may sum in another order (they do on an AVX2
    # AMD machine), and bitwise equality is only promised for equal kernels.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _tool().main(_args(workspace, single))
    finally:
        torch.set_num_threads(threads)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    proc = subprocess.run(
        ['torchrun', '--nproc_per_node=2', '--master_addr=127.0.0.1',
         f'--master_port={_free_port()}', TOOL, *_args(workspace, multi),
         '--launcher', 'pytorch'],
        capture_output=True, text=True, env=env, timeout=600)
    log = proc.stdout + proc.stderr
    meta = json.loads((multi / 'extraction_meta.json').read_text())
    assert meta['world_size'] == 2, log[-3000:]
    assert meta['videos'] == dict(listed=7, extracted=3, skipped_existing=0,
                                  failed=4)
    # one log per rank (MMLogger adds host and device to the name)
    logs = {r: list(multi.glob(f'extract_rank{r}*.log')) for r in (0, 1)}
    assert len(logs[0]) == len(logs[1]) == 1, log[-3000:]
    # rank 0 took videos 0, 2, 4, 6 (v1, empty, missing, v3), rank 1 the
    # others (v2, a1, junk)
    assert '[rank 1] video 1/3 v2' in logs[1][0].read_text()
    for stream in ('slowfast', 'clip'):
        for vid in ('v1', 'v2', 'v3'):
            a = np.load(single / f'{stream}_features' / f'{vid}.npz')
            b = np.load(multi / f'{stream}_features' / f'{vid}.npz')
            with a, b:
                assert np.array_equal(a['features'], b['features'])
