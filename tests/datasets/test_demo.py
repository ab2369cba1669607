# Copyright (c) mmmrhd contributors. All rights reserved.
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config

from mmmrhd.datasets import mrhd_collate
from mmmrhd.datasets.demo import (CLIP_DIM, CONCEPTS, DEMO_META_FILE,
                                  MAX_CLIPS, MIN_CLIPS, SLOWFAST_DIM,
                                  TEXT_DIM, generate_demo_data)
from mmmrhd.datasets.demo_dataset import (DemoQVHighlightsDataset,
                                          ensure_demo_data)
from mmmrhd.registry import DATASETS
from mmmrhd.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLITS = ('train', 'val')


def _load_tool(name):
    path = osp.join(REPO_ROOT, 'tools', 'misc', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _records(root, split):
    with open(osp.join(root, f'highlight_{split}_release.jsonl')) as f:
        return [json.loads(line) for line in f]


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """The default demo data (seed 0, 600 + 150 queries)."""
    return generate_demo_data(str(tmp_path_factory.mktemp('demo') / 'demo'))


# ------------------------------------------------------------ generator
def test_concept_words_are_in_their_phrases():
    assert len({phrase for phrase, _ in CONCEPTS}) == len(CONCEPTS)
    for phrase, words in CONCEPTS:
        assert set(words) <= set(phrase.split()), phrase


def test_same_seed_gives_identical_bytes_other_seed_differs(tmp_path):
    a = _files(generate_demo_data(str(tmp_path / 'a'), 3, 40, 10))
    b = _files(generate_demo_data(str(tmp_path / 'b'), 3, 40, 10))
    c = _files(generate_demo_data(str(tmp_path / 'c'), 4, 40, 10))
    assert len(a) > 50 and a == b
    ann = 'highlight_train_release.jsonl'
    assert a[ann] != c[ann]
    assert a['clip_text_features/qid0.npz'] != c['clip_text_features/qid0.npz']
    assert not [p for p in os.listdir(tmp_path) if 'tmp' in p]


def test_layout_keys_dims_and_ranges(demo_root):
    with open(osp.join(demo_root, DEMO_META_FILE)) as f:
        meta = json.load(f)
    assert meta['seed'] == 0 and meta['num_train'] == 600
    assert sorted(os.listdir(demo_root)) == [
        'clip_features', 'clip_text_features', DEMO_META_FILE,
        'highlight_train_release.jsonl', 'highlight_val_release.jsonl',
        'slowfast_features'
    ]
    vids = {}
    qids = set()
    for split, num in zip(SPLITS, (600, 150)):
        records = _records(demo_root, split)
        assert len(records) == num == meta['counts'][split]['queries']
        vids[split] = Counter(r['vid'] for r in records)
        assert len(vids[split]) == meta['counts'][split]['videos']
        for r in records:
            assert list(r) == [
                'qid', 'query', 'duration', 'vid', 'relevant_clip_ids',
                'saliency_scores', 'relevant_windows'
            ]
            assert r['qid'] not in qids
            qids.add(r['qid'])
            num_clips = r['duration'] // 2
            assert MIN_CLIPS <= num_clips <= MAX_CLIPS
            assert r['vid'].endswith(f'_0.0_{float(r["duration"])}')
            windows = r['relevant_windows']
            assert 1 <= len(windows) <= 3
            clip_ids = []
            for st, ed in windows:
                assert 0 <= st < ed <= r['duration']
                assert st % 2 == 0 and ed % 2 == 0
                clip_ids += list(range(st // 2, ed // 2))
            assert r['relevant_clip_ids'] == clip_ids
            for (_, ed), (st, _) in zip(windows, windows[1:]):
                assert st - ed >= 4  # >= 2 clips between windows
            scores = np.array(r['saliency_scores'])
            assert scores.shape == (len(clip_ids), 3)
            assert scores.min() >= 0 and scores.max() <= 4
        # every score level occurs, and shared videos exist
        all_scores = np.concatenate([r['saliency_scores'] for r in records])
        assert set(np.unique(all_scores)) == {0, 1, 2, 3, 4}
        assert max(vids[split].values()) == 2
        assert min(vids[split].values()) == 1
    assert not set(vids['train']) & set(vids['val'])
    # feature files: one per video and stream, one per query
    for split in SPLITS:
        for r in _records(demo_root, split)[:40]:
            for stream, dim in (('slowfast', SLOWFAST_DIM),
                                ('clip', CLIP_DIM)):
                with np.load(osp.join(demo_root, f'{stream}_features',
                                      f'{r["vid"]}.npz')) as z:
                    assert list(z) == ['features']
                    assert z['features'].shape == (r['duration'] // 2, dim)
                    assert z['features'].dtype == np.float16
                    assert np.isfinite(z['features']).all()
            with np.load(osp.join(demo_root, 'clip_text_features',
                                  f'qid{r["qid"]}.npz')) as z:
                assert list(z) == ['last_hidden_state', 'pooler_output']
                tokens = z['last_hidden_state']
                # <sot> + one token per word + <eot>
                assert tokens.shape == (len(r['query'].split()) + 2, TEXT_DIM)
                assert tokens.dtype == np.float32
                np.testing.assert_array_equal(z['pooler_output'], tokens[-1])
    num_videos = sum(len(v) for v in vids.values())
    assert len(os.listdir(osp.join(demo_root, 'clip_features'))) == num_videos
    assert len(os.listdir(osp.join(demo_root,
                                   'clip_text_features'))) == 750


def test_size_budget(demo_root):
    total = sum(len(b) for b in _files(demo_root).values())
    assert 3e6 < total < 10e6  # measured 7.1 MB (seed 0)


# -------------------------------------------------------- learnability
def _iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (a[1] - a[0] + b[1] - b[0] - inter)


def _average_precision(scores, labels):
    """Mean precision at the ranks of the positives (no ties here)."""
    ranked = labels[np.argsort(-scores, kind='stable')]
    hits = np.cumsum(ranked)
    return float(np.mean(hits[ranked == 1] / (np.flatnonzero(ranked) + 1)))


def _simple_metrics(preds, records):
    """R1@0.5 of the first window and HL mAP at 'Fair' (score >= 2)."""
    gt = {r['qid']: r for r in records}
    r1, hl_map = [], []
    for pred in preds:
        rec = gt[pred['qid']]
        top = pred['pred_relevant_windows'][0]
        r1.append(max(_iou(top, w) for w in rec['relevant_windows']) >= 0.5)
        labels = np.zeros((rec['duration'] // 2, 3))
        labels[rec['relevant_clip_ids']] = rec['saliency_scores']
        scores = np.asarray(pred['pred_saliency_scores'])
        hl_map.append(
            np.mean([
                _average_precision(scores, (labels[:, a] >= 2).astype(int))
                if (labels[:, a] >= 2).any() else 0.0 for a in range(3)
            ]))
    return float(np.mean(r1)), float(np.mean(hl_map))


def test_baseline_is_far_above_random(demo_root):
    tool = _load_tool('demo_baseline')
    records = _records(demo_root, 'val')
    base = tool.run_baseline(demo_root, 'val')
    rand = tool.run_baseline(demo_root, 'val', random_seed=0)
    assert [p['qid'] for p in base] == [r['qid'] for r in records]
    for pred, rec in zip(base, records):
        assert len(pred['pred_saliency_scores']) == rec['duration'] // 2
        assert 1 <= len(pred['pred_relevant_windows']) <= 10
        assert all(0 <= st <= ed <= rec['duration']
                   for st, ed, _ in pred['pred_relevant_windows'])
    base_r1, base_hl = _simple_metrics(base, records)
    rand_r1, rand_hl = _simple_metrics(rand, records)
    # measured (seed 0): baseline 0.887 / 0.799, random 0.067 / 0.248
    assert base_r1 > 0.75 and rand_r1 < 0.2
    assert base_hl > 0.7 and rand_hl < 0.35


def test_text_is_needed(demo_root):
    """With another query's text on the same video, the baseline fails.

    Videos hold distractor concepts, so the windows cannot be found from
    the video alone: the saliency of the queried clips must come from the
    text.
    """
    tool = _load_tool('demo_baseline')
    records = _records(demo_root, 'val')
    by_vid = {}
    for r in records:
        by_vid.setdefault(r['vid'], []).append(r)
    pairs = [v for v in by_vid.values() if len(v) == 2]
    assert len(pairs) >= 30

    def auc(rec, text_rec):
        feats = tool._load_npz(demo_root, 'clip_features',
                               f'{rec["vid"]}.npz', 'features')
        text = tool._load_npz(demo_root, 'clip_text_features',
                              f'qid{text_rec["qid"]}.npz', 'last_hidden_state')
        sal = tool.cosine_saliency(feats, text)
        pos = np.zeros(len(sal), bool)
        pos[rec['relevant_clip_ids']] = True
        return (sal[pos][:, None] > sal[~pos][None]).mean()

    matched = np.mean([auc(a, a) for a, b in pairs] +
                      [auc(b, b) for a, b in pairs])
    swapped = np.mean([auc(a, b) for a, b in pairs] +
                      [auc(b, a) for a, b in pairs])
    assert matched > 0.85 and swapped < 0.5


def test_propose_windows_hand_computed():
    tool = _load_tool('demo_baseline')
    saliency = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0.0])
    windows = tool.propose_windows(saliency)
    # smoothed [0, 0, 1/3, 2/3, 1, 2/3, 1/3, 0, 0, 0, 0]: mean 3/11,
    # std 0.3428, z = -0.80, 0.18, 1.15, 2.12 for 0, 1/3, 2/3, 1; clips 3-5
    # pass z > 0.5 and 1.0 (score 1.473 * sqrt(3) = 2.552), clip 4 alone
    # passes 1.5 and 2.0 (score 2.122)
    assert [w[:2] for w in windows] == [(3, 6), (4, 5)]
    assert [w[2] for w in windows] == pytest.approx([2.552, 2.122], abs=1e-3)
    assert tool.propose_windows(np.ones(5)) == [(0, 5, 0.0)]


# -------------------------------------------------------- dataset class
PIPELINE = [
    dict(type='LoadVideoFeatures'),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures'),
    dict(type='GenerateSpanTargets'),
    dict(type='GenerateSaliencyLabels', seed=0),
    dict(type='PackMRHDInputs'),
]


def test_dataset_generates_on_first_use(tmp_path):
    register_all_modules()
    root = str(tmp_path / 'nested' / 'demo')
    cfg = dict(
        type='DemoQVHighlightsDataset',
        ann_file='highlight_val_release.jsonl',
        data_root=root,
        num_train=12,
        num_val=6,
        pipeline=PIPELINE)
    dataset = DATASETS.build(cfg)
    assert isinstance(dataset, DemoQVHighlightsDataset)
    assert len(dataset) == 6 and osp.isfile(osp.join(root, DEMO_META_FILE))
    assert dataset.metainfo['dataset_name'] == 'QVHighlights-demo'
    batch = mrhd_collate([dataset[0], dataset[1]])
    video = batch['inputs']['video_feat']
    assert video.shape[-1] == SLOWFAST_DIM + CLIP_DIM + 2  # + TEF
    assert batch['inputs']['text_feat'].shape[-1] == TEXT_DIM
    sample = batch['data_samples'][0]
    assert sample['qid'] == 12
    assert sample['num_clips'] == sample['duration'] / 2
    # a second build reuses the data; other settings are refused
    mtime = os.path.getmtime(osp.join(root, DEMO_META_FILE))
    assert len(DATASETS.build(cfg)) == 6
    assert os.path.getmtime(osp.join(root, DEMO_META_FILE)) == mtime
    with pytest.raises(ValueError, match=r"'seed': 0.*not the requested"):
        DATASETS.build(dict(cfg, seed=1))


def test_dataset_errors(tmp_path):
    (tmp_path / 'junk').mkdir()
    (tmp_path / 'junk' / 'x.txt').write_text('x')
    with pytest.raises(FileExistsError, match='holds no demo data'):
        DemoQVHighlightsDataset(
            'highlight_val_release.jsonl', data_root=str(tmp_path / 'junk'))
    with pytest.raises(FileNotFoundError):
        DemoQVHighlightsDataset(
            'highlight_val_release.jsonl',
            data_root=str(tmp_path / 'missing'),
            auto_generate=False)
    with pytest.raises(FileExistsError, match='already exists'):
        generate_demo_data(str(tmp_path / 'junk'))
    with pytest.raises(ValueError, match='num_train'):
        generate_demo_data(str(tmp_path / 'new'), num_train=0)


def test_overwrite_regenerates(tmp_path):
    root = generate_demo_data(str(tmp_path / 'd'), 0, 5, 3)
    generate_demo_data(root, 1, 5, 3, overwrite=True)
    with open(osp.join(root, DEMO_META_FILE)) as f:
        assert json.load(f)['seed'] == 1


def test_non_generating_rank_waits(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '1')
    with pytest.raises(TimeoutError, match='waited 0.2 s'):
        ensure_demo_data(str(tmp_path / 'd'), 0, 5, 3, timeout=0.2)
    assert not osp.exists(tmp_path / 'd')
    generate_demo_data(str(tmp_path / 'd'), 0, 5, 3)
    assert ensure_demo_data(str(tmp_path / 'd'), 0, 5, 3) == str(tmp_path /
                                                                 'd')


def test_losing_the_rename_race_keeps_the_winner(tmp_path, monkeypatch):
    """Another process renames its copy first: ours is discarded."""
    from mmmrhd.datasets import demo
    root = str(tmp_path / 'd')
    write_all = demo._write_all

    def write_all_then_lose(out_dir, *args):
        write_all(out_dir, *args)
        write_all(root, 9, 4, 2)  # the winner, with other contents

    monkeypatch.setattr(demo, '_write_all', write_all_then_lose)
    assert generate_demo_data(root, 0, 4, 2) == root
    with open(osp.join(root, DEMO_META_FILE)) as f:
        assert json.load(f)['seed'] == 9
    assert sorted(os.listdir(tmp_path)) == ['d']
    # a root that appeared without demo data is not taken for a winner
    shutil.rmtree(root)

    def write_all_then_junk(out_dir, *args):
        write_all(out_dir, *args)
        os.makedirs(root)
        open(osp.join(root, 'junk'), 'w').close()

    monkeypatch.setattr(demo, '_write_all', write_all_then_junk)
    with pytest.raises(OSError):
        generate_demo_data(root, 0, 4, 2)
    assert sorted(os.listdir(tmp_path)) == ['d']


# ------------------------------------------------------------ CLI, config
def test_cli_generate_and_baseline(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / 'demo')
    out = str(tmp_path / 'preds' / 'val_preds.jsonl')
    gen = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools/misc/generate_demo_data.py'), '--out-dir',
        root, '--seed', '0', '--num-train', '8', '--num-val', '6'
    ],
                         capture_output=True,
                         text=True,
                         env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert gen.returncode == 0, gen.stderr
    assert 'train: 8 queries' in gen.stdout and 'val: 6 queries' in gen.stdout
    # re-runs, errors and the baseline, in-process (imports are slow)
    generator = _load_tool('generate_demo_data')
    before = _files(root)
    monkeypatch.setattr(sys, 'argv', [
        'x', '--out-dir', root, '--num-train', '8', '--num-val', '6'
    ])
    generator.main()  # same settings: kept
    assert capsys.readouterr().out.startswith('kept existing demo data')
    assert _files(root) == before
    monkeypatch.setattr(sys, 'argv', ['x', '--out-dir', root])
    with pytest.raises(SystemExit, match='error: .*not the requested'):
        generator.main()
    junk = tmp_path / 'junk'
    junk.mkdir()
    (junk / 'a.txt').write_text('a')
    monkeypatch.setattr(sys, 'argv', ['x', '--out-dir', str(junk)])
    with pytest.raises(SystemExit, match='holds no demo data'):
        generator.main()
    monkeypatch.setattr(sys, 'argv', [
        'x', '--out-dir',
        str(junk), '--num-train', '3', '--num-val', '2', '--overwrite'
    ])
    generator.main()
    assert capsys.readouterr().out.startswith('wrote demo data')
    assert len(_records(str(junk), 'train')) == 3
    baseline = _load_tool('demo_baseline')
    monkeypatch.setattr(
        sys, 'argv',
        ['x', '--data-root', root, '--split', 'val', '--out', out])
    baseline.main()
    assert f'wrote 6 predictions to {out}' in capsys.readouterr().out
    with open(out) as f:
        lines = [json.loads(line) for line in f]
    assert [p['qid'] for p in lines] == list(range(8, 14))
    assert list(lines[0]) == [
        'qid', 'query', 'vid', 'pred_relevant_windows', 'pred_saliency_scores'
    ]
    monkeypatch.setattr(sys, 'argv',
                        ['x', '--data-root', str(tmp_path / 'none')])
    with pytest.raises(FileNotFoundError, match='generate_demo_data.py'):
        baseline.main()


def test_config_matches_the_data(tmp_path):
    register_all_modules()
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets/demo.py'))
    assert cfg.data_root == 'data/demo'
    assert cfg.max_v_l == MAX_CLIPS
    assert cfg.v_feat_dim == SLOWFAST_DIM + CLIP_DIM + 2
    assert cfg.t_feat_dim == TEXT_DIM
    root = generate_demo_data(str(tmp_path / 'demo'), 0, 10, 5)
    for loader, split, num in ((cfg.train_dataloader, 'train', 10),
                               (cfg.val_dataloader, 'val', 5),
                               (cfg.test_dataloader, 'val', 5)):
        assert loader.collate_fn == dict(type='mrhd_collate')
        ds_cfg = dict(loader.dataset, data_root=root, num_train=10,
                      num_val=5)
        assert ds_cfg['ann_file'] == f'highlight_{split}_release.jsonl'
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) == num
        item = dataset[0]
        assert item['inputs']['video_feat'].shape[1] == cfg.v_feat_dim
        assert item['inputs']['text_feat'].shape[1] == cfg.t_feat_dim
    assert cfg.val_evaluator.type == 'QVHighlightsMetric'
