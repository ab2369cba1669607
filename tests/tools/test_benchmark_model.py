# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/analysis_tools/benchmark_model.py at tiny shapes (no timing
assertions: only the batch, the rows and the error paths are checked)."""
import importlib.util
import os
import os.path as osp

import pytest
import torch

from mmmrhd.models.losses.rank_contrastive_loss import rank_contrastive_loss

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_model.py')
TINY = [
    '--batch-size', '4', '--num-clips', '8', '--video-dim', '20', '--text-dim',
    '12', '--steps', '1', '--warmup', '0', '--infer-steps', '1'
]
#: A small TaskWeave (the tool overrides the input streams).
CONFIG = """
d = 32
layer = dict(num_heads=4, ffn_dim=64)
model = dict(
    type='TaskWeave',
    embed_dim=d,
    video_proj=dict(type='InputProjection', streams=[dict(name='v', dim=3)]),
    text_proj=dict(type='InputProjection', streams=[dict(name='t', dim=3)]),
    fusion=dict(type='T2VEncoder', num_layers=1, **layer),
    neck=dict(
        type='TaskDecoupledUnit',
        shared_expert=dict(type='TransformerExpert', num_layers=1, **layer)),
    decoder=dict(type='DABMomentDecoder', num_layers=2, num_queries=4,
                 **layer))
"""


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_model', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'tiny_taskweave.py'
    path.write_text(CONFIG)
    return str(path)


def _rows(text):
    """``{row: [cells]}`` of the printed AsciiTable."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('|') and cells[0] != 'row':
            rows[cells[0]] = cells[1:]
    return rows


def test_default_batch_is_the_official_speed_batch(tool):
    batch = tool.make_batch(32, 75, 2818, 512, seed=0)
    inputs, samples = batch['inputs'], batch['data_samples']
    assert inputs['video_feat'].shape == (32, 75, 2818)
    assert inputs['text_feat'].shape == (32, 32, 512)
    lengths = inputs['video_mask'].sum(1).long().tolist()
    assert [i for i, n in enumerate(lengths)
            if n != 75] == [3, 8, 13, 19, 24, 29]
    assert [lengths[i]
            for i in (3, 8, 13, 19, 24, 29)] == [60, 41, 52, 33, 70, 66]
    assert inputs['text_mask'].sum(1).long().tolist() == list(
        tool.TEXT_LENGTHS)
    assert [len(s['gt_windows']) for s in samples[:6]] == [1, 2, 3, 1, 2, 3]
    # TEF columns: [i / n, (i + 1) / n]; the feature streams L2-normalised.
    video = inputs['video_feat'][3, :60]
    torch.testing.assert_close(video[:, -2], torch.arange(60.) / 60)
    torch.testing.assert_close(video[:, -1], torch.arange(1., 61.) / 60)
    torch.testing.assert_close(video[:, :2304].norm(dim=1), torch.ones(60))
    for s in samples:
        n = s['num_clips']
        assert s['duration'] == 2.0 * n and s['ann']['qid'] == s['qid']
        assert (s['gt_windows'][:, 1] - s['gt_windows'][:, 0]).max() <= 24
        assert s['gt_windows'].max() <= 2.0 * n
        cx, w = s['gt_spans'].unbind(1)
        assert bool(((cx - w / 2) >= 0).all() and ((cx + w / 2) <= 1).all())
        labels = s['saliency_all_labels']
        assert labels.shape == (n, ) and labels.max() <= 12
        pos, neg = s['saliency_pos_labels'], s['saliency_neg_labels']
        assert pos.max() < n and neg.max() < n
    # Deterministic, and a real training target (finite rank loss).
    again = tool.make_batch(32, 75, 2818, 512, seed=0)
    assert torch.equal(again['inputs']['video_feat'], inputs['video_feat'])
    scores = torch.randn(32, 75)
    loss = rank_contrastive_loss(
        scores, inputs['video_mask'],
        torch.stack([
            torch.nn.functional.pad(s['saliency_all_labels'],
                                    (0, 75 - s['num_clips'])) for s in samples
        ]), scores)
    assert torch.isfinite(loss)


def test_anchor_only_for_the_anchor_shapes(tool):
    assert tool.anchor_for('TaskWeave', dict(tool.ANCHOR_SHAPE)) == {
        'train_off': 11.3,
        'train_on': 8.1,
        'infer': 33.9
    }
    assert tool.anchor_for('TaskWeave', dict(tool.ANCHOR_SHAPE,
                                             batch_size=2)) is None
    assert tool.anchor_for('OtherModel', dict(tool.ANCHOR_SHAPE)) is None
    assert tool.video_streams(2818) == tool.QVH_STREAMS
    assert tool.video_streams(20) == [
        dict(name='video', dim=18),
        dict(name='tef', dim=2)
    ]


def test_rows_feedback_both(tool, config, capsys):
    results = tool.main([config] + TINY)
    out = capsys.readouterr().out
    assert [r['row'] for r in results] == ['train_off', 'train_on', 'infer']
    assert all(r['ours'] > 0 and 'ratio' not in r for r in results)
    rows = _rows(out)
    assert list(rows) == ['train_off', 'train_on', 'infer']
    for cells in rows.values():
        assert float(cells[0]) > 0 and cells[1:] == ['n/a', 'n/a']
    assert 'B=4 L=8 video 20 text 12' in out
    assert 'no official anchor for TaskWeave at these shapes' in out


def test_feedback_on_official_compat_and_profile(tool, config, capsys):
    threads = torch.get_num_threads()
    results = tool.main([config] + TINY + [
        '--feedback', 'on', '--profile', '3', '--threads', '1',
        '--cfg-options', 'model.official_compat=True'
    ])
    out = capsys.readouterr().out
    assert [r['row'] for r in results] == ['train_on', 'infer']
    assert 'profile ours train_on:' in out and 'profile ours infer:' in out
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)


def test_model_without_feedback_has_one_train_row(tool, config, capsys):
    results = tool.main([config] + TINY +
                        ['--cfg-options', 'model.feedback=None'])
    assert [r['row'] for r in results] == ['train', 'infer']


def test_errors(tool, config, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([str(tmp_path / 'missing.py')])
    no_proj = tmp_path / 'no_proj.py'
    no_proj.write_text("model = dict(type='TaskWeave')\n")
    with pytest.raises(KeyError, match="no 'video_proj'"):
        tool.main([str(no_proj)] + TINY)
    with pytest.raises(FileNotFoundError, match='taskweave/model.py'):
        tool.main([config] + TINY + ['--official-root', str(tmp_path)])
    with pytest.raises(SystemExit):
        tool.main([config, '--steps', '0'])
    with pytest.raises(ValueError, match='--video-dim must be >= 3'):
        tool.main([config] + TINY + ['--video-dim', '2'])


@pytest.mark.skipif(
    not os.environ.get('MMMRHD_OFFICIAL_TASKWEAVE'),
    reason='set MMMRHD_OFFICIAL_TASKWEAVE to a checkout of '
    'EdenGabriel/TaskWeave to run the in-run official comparison')
def test_in_run_official_comparison(tool, config, capsys):
    root = os.environ['MMMRHD_OFFICIAL_TASKWEAVE']
    results = tool.main([config] + TINY + ['--official-root', root])
    out = capsys.readouterr().out
    for r in results:
        assert r['official'] > 0
        assert r['ratio'] == pytest.approx(r['ours'] / r['official'])
    rows = _rows(out)
    assert all(cells[2].endswith('x') for cells in rows.values())
    assert f'official: {root}, timed in this run' in out
