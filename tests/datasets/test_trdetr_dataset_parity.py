# Copyright (c) mmmrhd contributors. All rights reserved.
"""``pos_mask`` parity with the official TR-DETR ``StartEndDataset``.

``shared/fixtures/dataset_trdetr_extras.pth`` (README section 9, quirk 16)
holds TR-DETR's ``pos_mask`` of the six ``fake_qvh/`` items and the collated
``src_pos_mask``. With ``official_compat=True`` the transform reproduces
them (qid 9003: the overflow bug); the default drops the overflow id.
"""
import os.path as osp

import pytest
import torch

from mmmrhd.datasets import collate_targets


def _items(fake_qvh_dataset, compat):
    ds = fake_qvh_dataset(
        dict(
            type='QVHighlightsDataset',
            pipeline=[
                dict(type='LoadVideoFeatures', max_len=75),
                dict(type='LoadTextFeatures', max_len=32),
                dict(type='GeneratePositiveClipMask', official_compat=compat),
                dict(type='PackMRHDInputs'),
            ]))
    return [ds[i] for i in range(len(ds))]


@pytest.fixture(scope='module')
def official(fixtures_dir):
    return torch.load(
        osp.join(fixtures_dir, 'dataset_trdetr_extras.pth'),
        weights_only=True)


def test_official_compat_reproduces_pos_mask(fake_qvh_dataset, official):
    ours = _items(fake_qvh_dataset, compat=True)
    for item, ref in zip(ours, official['items']):
        assert item['data_samples']['qid'] == ref['qid']
        torch.testing.assert_close(item['data_samples']['pos_mask'],
                                   ref['pos_mask'], atol=0, rtol=0)
    # qid 9003 (id 64 == L): only the overflow slot is set (sum 1)
    assert ours[2]['data_samples']['pos_mask'].sum().item() == 1
    collated = collate_targets([i['data_samples'] for i in ours])
    torch.testing.assert_close(collated['src_pos_mask'],
                               official['collated_targets']['src_pos_mask'],
                               atol=0, rtol=0)


def test_default_drops_the_overflow_id(fake_qvh_dataset, official):
    ours = _items(fake_qvh_dataset, compat=False)
    for item, ref in zip(ours, official['items']):
        mask = item['data_samples']['pos_mask']
        assert len(mask) == item['data_samples']['num_clips']
        if ref['qid'] != 9003:
            torch.testing.assert_close(mask, ref['pos_mask'], atol=0, rtol=0)
    # qid 9003: the 11 relevant clips inside the video, not the overflow
    assert ours[2]['data_samples']['pos_mask'].sum().item() == 11
