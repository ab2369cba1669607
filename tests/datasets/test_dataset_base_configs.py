# Copyright (c) mmmrhd contributors. All rights reserved.
"""``configs/_base_/datasets/*.py`` build working dataloaders."""
import copy
import json
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmmrhd.datasets  # noqa: F401 (registers the modules)

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs', '_base_', 'datasets')


def build_loader(cfg: dict, data_root: str):
    cfg = copy.deepcopy(cfg)
    cfg.update(num_workers=0, persistent_workers=False)
    cfg['dataset']['data_root'] = data_root
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        return Runner.build_dataloader(cfg, seed=0)


def write_qvh_like(factory, files, streams, text_stream, records):
    for name in files:
        factory.jsonl(f'annotations/{name}', records)
    for rec in records:
        factory.video(rec['vid'], {s: 6 for s in streams})
        factory.text(rec['qid'], stream=text_stream)


def test_qvhighlights_config(factory):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'qvhighlights.py'))
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.val_dataloader.batch_size == 100
    assert cfg.val_evaluator == dict(type='QVHighlightsMetric')
    recs = [factory.record(qid=q, vid=f'v{q}', duration=12, windows=[(2, 6)],
                           clip_ids=[1, 2], scores=[(1, 1, 1), (2, 2, 2)])
            for q in (1, 2, 3)]
    write_qvh_like(
        factory, ['highlight_train_release.jsonl',
                  'highlight_val_release.jsonl',
                  'highlight_test_with_gt.jsonl'],
        ['features/slowfast_features', 'features/clip_features'],
        'features/clip_text_features', recs)
    train = build_loader(cfg.train_dataloader, factory.root)
    batch = next(iter(train))
    assert batch['inputs']['video_feat'].shape == (3, 6, 6 + 6 + 2)
    assert all('gt_spans' in s and 'saliency_pos_labels' in s
               for s in batch['data_samples'])
    for name in ('val_dataloader', 'test_dataloader'):
        batch = next(iter(build_loader(cfg[name], factory.root)))
        assert [s['qid'] for s in batch['data_samples']] == [1, 2, 3]
        assert all('gt_spans' not in s for s in batch['data_samples'])


def test_charades_config(factory):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'charades_sta.py'))
    assert cfg.val_evaluator == dict(type='CharadesSTAMetric')
    recs = [dict(qid=q, query='q', duration=5.5, vid=f'v{q}',
                 relevant_windows=[[1.2, 3.4]]) for q in (1, 2)]
    write_qvh_like(
        factory, ['charades_sta_train_tvr_format.jsonl',
                  'charades_sta_test_tvr_format.jsonl'],
        ['features/slowfast_features', 'features/clip_features'],
        'features/clip_text_features', recs)
    batch = next(iter(build_loader(cfg.train_dataloader, factory.root)))
    sample = batch['data_samples'][0]
    assert sample['clip_len'] == 1.0
    assert sample['saliency_all_labels'].shape == (6, )
    batch = next(iter(build_loader(cfg.test_dataloader, factory.root)))
    assert len(batch['data_samples']) == 2


def test_tvsum_config(factory):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'tvsum.py'))
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.val_evaluator == dict(type='TVSumMetric')
    recs = []
    for vid, domain in (('x1', 'BK'), ('x2', 'BK'), ('x3', 'VU')):
        recs.append(dict(qid=vid, query='title', duration=3, vid=vid,
                         relevant_clip_ids=None, relevant_windows=None,
                         label=[[2.0] * 20, [4.0] * 20, [1.0] * 20],
                         domain=domain))
        factory.npy(f'features/video_features/{vid}_rgb.npy',
                    factory.randn(3, 4))
        factory.npy(f'features/video_features/{vid}_opt.npy',
                    factory.randn(3, 4))
        factory.npz(f'features/query_features/{vid}.npz',
                    token=factory.randn(2, 5))
    factory.jsonl('annotations/tvsum_train.jsonl', recs)
    factory.jsonl('annotations/tvsum_val.jsonl', recs)
    batch = next(iter(build_loader(cfg.train_dataloader, factory.root)))
    assert sorted(s['qid'] for s in batch['data_samples']) == ['x1', 'x2']
    assert batch['inputs']['video_feat'].shape == (2, 3, 8 + 2)
    labels = batch['data_samples'][0]['saliency_all_labels']
    np.testing.assert_allclose(labels.numpy(), [3.0, 9.0, 0.0])
    val_cfg = copy.deepcopy(cfg.val_dataloader)
    val_cfg['dataset']['domain'] = 'VU'
    batch = next(iter(build_loader(val_cfg, factory.root)))
    assert [s['qid'] for s in batch['data_samples']] == ['x3']


def test_configs_only_use_registered_types():
    from mmmrhd.registry import DATASETS, FUNCTIONS, TRANSFORMS
    for name in ('qvhighlights.py', 'charades_sta.py', 'tvsum.py'):
        cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            ds = cfg[loader]['dataset']
            assert DATASETS.get(ds['type']) is not None
            assert FUNCTIONS.get(cfg[loader]['collate_fn']['type'])
            for t in ds['pipeline']:
                assert TRANSFORMS.get(t['type']) is not None, t
        json.dumps(cfg.to_dict())  # plain values only
