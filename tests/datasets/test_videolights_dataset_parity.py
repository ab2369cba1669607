# Copyright (c) mmmrhd contributors. All rights reserved.
"""``saliency_pos_index`` parity with the official VideoLights
``StartEndDataset`` (``shared/fixtures/dataset_videolights_extras.pth``,
README section 9): the six ``fake_qvh/`` items, including the one-slot
growth of qid 9003 (relevant id == L), and the collated target."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmmrhd.datasets import collate_targets
from mmmrhd.datasets.transforms import GenerateSaliencyPosIndex


@pytest.fixture(scope='module')
def official(fixtures_dir):
    return torch.load(
        osp.join(fixtures_dir, 'dataset_videolights_extras.pth'),
        weights_only=True)


def test_pos_index_matches_official(fake_qvh_dataset, official):
    ds = fake_qvh_dataset(
        dict(
            type='QVHighlightsDataset',
            pipeline=[
                dict(type='LoadVideoFeatures', max_len=75),
                dict(type='AppendTEF'),
                dict(type='LoadTextFeatures', max_len=32),
                dict(type='GenerateSaliencyLabels'),
                dict(type='GenerateSaliencyPosIndex'),
                dict(type='PackMRHDInputs'),
            ]))
    items = [ds[i]['data_samples'] for i in range(len(ds))]
    assert [i['qid'] for i in items] == [r['qid'] for r in official['items']]
    for item, ref in zip(items, official['items']):
        assert item['saliency_pos_index'].dtype == torch.int64
        assert torch.equal(item['saliency_pos_index'],
                           ref['saliency_pos_index']), item['qid']
    collated = collate_targets(items)
    assert torch.equal(collated['saliency_pos_index'],
                       official['collated_targets']['saliency_pos_index'])


def test_transform_by_hand():
    t = GenerateSaliencyPosIndex()
    out = t(dict(saliency_all_labels=np.array([0., 3., 12., 0., 1.])))
    assert out['saliency_pos_index'].tolist() == [0, 1, 1, 0, 1]
    assert out['saliency_pos_index'].dtype == np.int64
    assert 'saliency_pos_index' not in t(dict(qid=1))  # no labels: no-op
