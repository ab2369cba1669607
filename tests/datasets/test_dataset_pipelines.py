# Copyright (c) mmmrhd contributors. All rights reserved.
"""End-to-end: dataset + pipeline + collate on small generated data."""
import pytest
import torch

from mmmrhd.datasets import collate_targets, mrhd_collate
from mmmrhd.registry import DATASETS
from mmmrhd.utils.errors import DataError

TRAIN = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='GenerateSpanTargets', max_windows=5, seed=0),
    dict(type='GenerateSaliencyLabels', seed=0),
    dict(type='PackMRHDInputs'),
]
TEST = [TRAIN[0], TRAIN[1], TRAIN[2], TRAIN[-1]]


def test_qvhighlights_train_batch(factory):
    factory.video('a', dict(sf=10, clip=10), dims=dict(sf=6, clip=4))
    factory.video('b', dict(sf=7, clip=8), dims=dict(sf=6, clip=4))
    factory.text(1, length=3)
    factory.text(2, length=5)
    factory.jsonl('ann.jsonl', [
        factory.record(qid=1, vid='a', duration=20, windows=[(2, 6)],
                       clip_ids=[1, 2], scores=[(0, 0, 1), (4, 4, 4)]),
        factory.record(qid=2, vid='b', duration=14, windows=[(0, 4),
                                                             (10, 14)],
                       clip_ids=[0, 1, 5, 6],
                       scores=[(1, 1, 1)] * 4),
    ])
    ds = DATASETS.build(
        dict(type='QVHighlightsDataset', ann_file='ann.jsonl',
             data_root=factory.root, data_prefix=factory.prefix(),
             pipeline=TRAIN))
    batch = mrhd_collate([ds[0], ds[1]])
    inputs = batch['inputs']
    assert inputs['video_feat'].shape == (2, 10, 6 + 4 + 2)
    assert inputs['video_mask'].tolist() == [[1] * 10, [1] * 7 + [0] * 3]
    assert inputs['text_feat'].shape == (2, 5, 4)
    assert inputs['text_mask'].sum(1).tolist() == [3, 5]
    samples = batch['data_samples']
    assert [s['num_clips'] for s in samples] == [10, 7]
    # sample b: 7 clips x 2 s: [0, 4] -> (1/7, 2/7) in cxw.
    torch.testing.assert_close(
        samples[1]['gt_spans'],
        torch.tensor([[2 / 14, 4 / 14], [12 / 14, 4 / 14]]))
    targets = collate_targets(samples)
    assert targets['saliency_pos_labels'][:, 0].tolist() == [2, 6]
    assert targets['saliency_neg_labels'][:, 0].tolist() == [1, 0]
    assert targets['saliency_all_labels'].shape == (2, 10)
    assert targets['saliency_all_labels'][0, :3].tolist() == [0, 1, 12]


def test_qvhighlights_test_split_without_ground_truth(factory):
    factory.video('a', dict(sf=10, clip=10))
    factory.text(1)
    factory.jsonl('test.jsonl', [
        factory.record(qid=1, vid='a', windows=None, clip_ids=None,
                       scores=None)
    ])
    ds = DATASETS.build(
        dict(type='QVHighlightsDataset', ann_file='test.jsonl',
             data_root=factory.root, data_prefix=factory.prefix(),
             test_mode=True, pipeline=TRAIN))
    sample = ds[0]['data_samples']
    assert not {'gt_windows', 'gt_spans', 'saliency_all_labels'} & set(sample)
    assert collate_targets([sample]) == {}


def test_charades_with_pseudo_saliency(factory):
    factory.video('3MSZA', dict(sf=31, clip=31))
    factory.text(12404)
    factory.jsonl('c.jsonl', [
        dict(qid=12404, query='person turn a light on.', duration=30.96,
             vid='3MSZA', relevant_windows=[[24.3, 30.4]])
    ])
    ds = DATASETS.build(
        dict(type='CharadesSTADataset', ann_file='c.jsonl',
             data_root=factory.root, data_prefix=factory.prefix(),
             pipeline=[TRAIN[0], TRAIN[1], TRAIN[2], TRAIN[3],
                       dict(type='GenerateWindowSaliencyLabels', seed=0),
                       TRAIN[-1]]))
    sample = ds[0]['data_samples']
    assert sample['clip_len'] == 1.0 and sample['num_clips'] == 31
    # Spans: [24.3, 30.4] / (31 clips x 1 s).
    torch.testing.assert_close(
        sample['gt_spans'],
        torch.tensor([[(24.3 + 30.4) / 2 / 31, (30.4 - 24.3) / 31]]))
    # Pseudo labels: c = 30.96 / 31; clips int(24.3 / c) = 24 ..
    # min(int(30.4 / c), 31) - 1 = 29.
    assert torch.nonzero(sample['saliency_all_labels']).flatten().tolist() \
        == list(range(24, 30))
    assert sample['saliency_pos_labels'].shape == (2, )


def test_tvsum_i3d_pipeline(factory):
    label = [[1.0] * 20, [5.0] * 20, [3.0] * 20, [2.0] * 20]
    factory.npy('i3d/vidT_rgb.npy', factory.randn(5, 3))
    factory.npy('i3d/vidT_opt.npy', factory.randn(5, 3))
    factory.npz('q/vidT.npz', token=factory.randn(4, 2))
    factory.jsonl('t.jsonl', [
        dict(qid='vidT', query='title', duration=4, vid='vidT',
             relevant_clip_ids=None, relevant_windows=None, label=label,
             domain='BK')
    ])
    ds = DATASETS.build(
        dict(type='TVSumDataset', ann_file='t.jsonl', data_root=factory.root,
             domain='BK', data_prefix=dict(video='i3d', text='q'),
             pipeline=[
                 dict(type='LoadVideoFeatures',
                      file_template=['{vid}_rgb.npy', '{vid}_opt.npy'],
                      key=None, max_len=1000),
                 dict(type='AppendTEF'),
                 dict(type='LoadTextFeatures', file_template='{qid}.npz',
                      key='token', max_len=None, normalize=False),
                 dict(type='GenerateSaliencyLabels', add_easy=False,
                      overflow='drop'),
                 dict(type='PackMRHDInputs'),
             ]))
    item = ds[0]
    assert item['inputs']['video_feat'].shape == (5, 6 + 2)
    sample = item['data_samples']
    assert sample['duration'] == 8.0
    assert 'gt_spans' not in sample
    # agg / 80 * 12 = [0, 12, 6, 3] (+ one unlabelled feature clip).
    assert sample['saliency_all_labels'].tolist() == [0, 12, 6, 3, 0]
    assert sample['saliency_pos_labels'].tolist() == [1]
    assert sample['saliency_neg_labels'].tolist() == [0]


def test_pipeline_errors_surface(factory):
    factory.video('a', dict(sf=10))  # the clip stream is missing
    factory.text(1)
    factory.jsonl('ann.jsonl', [factory.record(qid=1, vid='a')])
    cfg = dict(type='QVHighlightsDataset', ann_file='ann.jsonl',
               data_root=factory.root, data_prefix=factory.prefix(),
               pipeline=TEST)
    # Found when the dataset is built (cheap existence check) ...
    with pytest.raises(DataError, match=r"^1 feature file\(s\) needed by "
                       r".*ann\.jsonl do not exist: .*clip/a\.npz \(qid 1, "
                       r"vid 'a'\) \(list all problems with "
                       r'tools/misc/check_dataset\.py CONFIG\)$'):
        DATASETS.build(cfg)
    # ... or, with the check off, when the sample is loaded.
    ds = DATASETS.build(dict(cfg, check_feature_files=False))
    with pytest.raises(FileNotFoundError, match=r'clip/a\.npz'):
        ds[0]


def test_missing_files_counted_and_cut(factory):
    factory.jsonl('ann.jsonl', [
        factory.record(qid=q, vid=f'v{q}') for q in range(1, 6)])
    with pytest.raises(DataError, match=r'^15 feature file\(s\) .* and 12 '
                       'more'):
        DATASETS.build(
            dict(type='QVHighlightsDataset', ann_file='ann.jsonl',
                 data_root=factory.root, data_prefix=factory.prefix(),
                 pipeline=TEST))


def test_relevant_ids_beyond_short_features_are_an_error(factory):
    # Annotation up to clip 9 (20 s) but only 8 feature clips.
    factory.video('a', dict(sf=8, clip=8))
    factory.text(1)
    factory.jsonl('ann.jsonl', [
        factory.record(qid=1, vid='a', duration=20, windows=[(14, 20)],
                       clip_ids=[7, 8, 9], scores=[(1, 1, 1)] * 3)
    ])
    cfg = dict(type='QVHighlightsDataset', ann_file='ann.jsonl',
               data_root=factory.root, data_prefix=factory.prefix(),
               pipeline=TRAIN)
    with pytest.raises(DataError, match=r'sf/a\.npz has 8 clips .* needs '
                       r'at least 9 clips'):
        DATASETS.build(cfg)[0]
    # Without the dataset's length check the label generator still refuses.
    ds = DATASETS.build(dict(cfg, feat_len_slack=None))
    with pytest.raises(ValueError, match=r'relevant clip ids \[8, 9\] are >= '
                       'the 8 feature clips'):
        ds[0]
