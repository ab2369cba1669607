# Copyright (c) mmmrhd contributors. All rights reserved.
"""The checks accept every real annotation file of the three datasets."""
import os.path as osp

import numpy as np
import pytest

from mmmrhd.datasets import (CharadesSTADataset, QVHighlightsDataset,
                             TVSumDataset)

# (class, file, kwargs, records, records with ground truth)
CASES = [
    (QVHighlightsDataset, 'qvhighlights/highlight_train_release.jsonl', {},
     7218),
    (QVHighlightsDataset, 'qvhighlights/highlight_val_release.jsonl', {},
     1550),
    (QVHighlightsDataset, 'qvhighlights/highlight_test_release.jsonl',
     dict(test_mode=True), 1542),
    (QVHighlightsDataset, 'qvhighlights/highlight_test_with_gt.jsonl',
     dict(test_mode=True), 1542),
    (CharadesSTADataset, 'charades_sta/charades_sta_train_tvr_format.jsonl',
     {}, 12404),
    (CharadesSTADataset, 'charades_sta/charades_sta_test_tvr_format.jsonl',
     dict(test_mode=True), 3720),
    (TVSumDataset, 'tvsum/tvsum_train.jsonl', {}, 40),
    (TVSumDataset, 'tvsum/tvsum_val.jsonl', dict(test_mode=True), 10),
]


@pytest.mark.parametrize('cls, ann_file, kwargs, num', CASES,
                         ids=[osp.basename(c[1]) for c in CASES])
def test_real_files_load(data_dir, cls, ann_file, kwargs, num):
    ds = cls(ann_file=ann_file, data_root=data_dir, **kwargs)
    assert len(ds) == num
    info = ds.get_data_info(num - 1)
    has_gt = 'highlight_test_release' not in ann_file
    assert ('gt_windows' in info) == (has_gt and cls is not TVSumDataset)
    assert ('saliency_agg' in info) == (has_gt
                                        and cls is not CharadesSTADataset)


def test_real_qvhighlights_values(data_dir):
    ds = QVHighlightsDataset(
        ann_file='qvhighlights/highlight_val_release.jsonl',
        data_root=data_dir)
    # The val example of shared/data/README.md.
    info = next(
        ds.get_data_info(i) for i in range(len(ds))
        if ds.get_data_info(i)['qid'] == 2579)
    assert info['vid'] == 'NUsG9BgSes0_210.0_360.0'
    np.testing.assert_array_equal(info['gt_windows'], [[82, 150]])
    assert info['saliency_clip_ids'].tolist() == list(range(41, 75))
    assert info['saliency_agg'][:2].tolist() == [1 + 1 + 2, 1 + 1 + 3]
    assert info['saliency_agg'][-1] == 3 + 1 + 4


def test_real_tvsum_domain_split(data_dir):
    ds = TVSumDataset(
        ann_file='tvsum/tvsum_val.jsonl', data_root=data_dir, domain='VU')
    assert len(ds) == 1
    info = ds.get_data_info(0)
    # shared/data/README.md: VU val video sTEELN-vY30, 74 clips.
    assert info['qid'] == info['vid'] == 'sTEELN-vY30'
    assert info['duration'] == 148.0  # 74 clips x 2 s
    assert len(info['saliency_agg']) == 74
    train = TVSumDataset(
        ann_file='tvsum/tvsum_train.jsonl', data_root=data_dir,
        domain=['BK', 'PR'])
    assert len(train) == 8
    assert {train.get_data_info(i)['ann']['domain']
            for i in range(8)} == {'BK', 'PR'}


@pytest.mark.parametrize('cls, ann_file, kwargs, num', CASES[:6],
                         ids=[osp.basename(c[1]) for c in CASES[:6]])
def test_real_annotations_fit_floor_length_features(data_dir, cls, ann_file,
                                                    kwargs, num):
    """The length rule accepts features of floor(duration / clip_len) rows.

    The shortest plausible extraction of a video keeps only whole clips;
    no real record needs more (feature files themselves are not available
    here, see docs "Checking a dataset").
    """
    ds = cls(ann_file=ann_file, data_root=data_dir, **kwargs)
    need = np.array([ds.get_data_info(i)['min_num_clips']
                     for i in range(num)])
    floor = np.array([
        int(ds.get_data_info(i)['duration'] // ds.clip_len)
        for i in range(num)
    ])
    assert (need <= floor).all()
    if 'highlight_test_release' not in ann_file:
        assert need.max() > 0  # the rule is active on ground truth
