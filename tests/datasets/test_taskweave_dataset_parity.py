# Copyright (c) mmmrhd contributors. All rights reserved.
"""Parity with the official TaskWeave ``StartEndDataset`` on ``fake_qvh/``.

``shared/fixtures/dataset_taskweave.pth`` (README sections 9, 10 and quirks
8, 20) holds the official items and their collated batch. The deterministic
fields must match; the random ones (easy pos/neg, the 5-of-7 window subset
of qid 9004) must be valid draws.
"""
import os.path as osp

import numpy as np
import pytest
import torch

from mmmrhd.datasets import collate_targets, mrhd_collate

# The official settings (fixture meta.dataset_kwargs).
PIPELINE = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='GenerateSpanTargets', max_windows=5, seed=0),
    dict(type='GenerateSaliencyLabels', seed=0),
    dict(type='PackMRHDInputs'),
]


@pytest.fixture(scope='module')
def official(fixtures_dir):
    return torch.load(
        osp.join(fixtures_dir, 'dataset_taskweave.pth'), weights_only=True)


@pytest.fixture(scope='module')
def ours(fake_qvh_dataset):
    ds = fake_qvh_dataset(dict(type='QVHighlightsDataset', pipeline=PIPELINE))
    return [ds[i] for i in range(len(ds))]


def test_settings_are_the_official_ones(official):
    kw = official['meta']['dataset_kwargs']
    assert (kw['max_q_l'], kw['max_v_l'], kw['clip_len'],
            kw['max_windows']) == (32, 75, 2, 5)
    assert kw['v_feat_dirs'][0].endswith('slowfast_features')
    assert kw['v_feat_dirs'][1].endswith('clip_features')
    assert kw['q_feat_type'] == 'last_hidden_state'
    assert kw['ctx_mode'] == 'video_tef'


def test_features_match(official, ours):
    assert len(ours) == len(official['items']) == 6
    for item, ref in zip(ours, official['items']):
        video, text = item['inputs']['video_feat'], item['inputs']['text_feat']
        assert video.dtype == text.dtype == torch.float32
        torch.testing.assert_close(video, ref['video_feat'], atol=1e-6,
                                   rtol=0)
        torch.testing.assert_close(text, ref['query_feat'], atol=1e-6, rtol=0)
        assert item['data_samples']['num_clips'] == len(ref['video_feat'])
    # The edge cases of fake_qvh: 71/70 clips cut to 70, 80/78 cut to 75,
    # 40 tokens cut to 32.
    assert [len(i['inputs']['video_feat']) for i in ours] == [
        75, 70, 64, 75, 75, 70
    ]
    assert len(ours[2]['inputs']['text_feat']) == 32


def test_deterministic_targets_match(official, ours):
    for item, ref in zip(ours, official['items']):
        ds = item['data_samples']
        qid = ds['qid']
        assert qid == ref['meta']['qid']
        # The raw record is passed through untouched (the official code
        # shuffles qid 9004's windows in place; ours does not).
        assert ds['ann']['qid'] == qid
        all_labels = ds['saliency_all_labels']
        assert all_labels.dtype == torch.float32
        torch.testing.assert_close(all_labels.double(),
                                   ref['saliency_all_labels'], atol=0, rtol=0)
        assert ds['saliency_pos_labels'][0] == ref['saliency_pos_labels'][0]
        assert ds['saliency_neg_labels'][0] == ref['saliency_neg_labels'][0]
        if 'span_labels (shuffled+truncated, >5 windows)' not in ref[
                'random_fields']:
            torch.testing.assert_close(ds['gt_spans'], ref['span_labels'],
                                       atol=1e-6, rtol=0)
        if not any(f.startswith('saliency_pos_labels')
                   for f in ref['random_fields']):  # qid 9005: copied pair
            assert ds['saliency_pos_labels'].tolist() == ref[
                'saliency_pos_labels']
            assert ds['saliency_neg_labels'].tolist() == ref[
                'saliency_neg_labels']
    # qid 9003: relevant id 64 == L grows the labels to 65 slots.
    assert len(ours[2]['data_samples']['saliency_all_labels']) == 65


def test_random_targets_are_valid(official, ours):
    for item, ref in zip(ours, official['items']):
        ds = item['data_samples']
        meta = ref['meta']
        length = ds['num_clips']
        rel = set(meta['relevant_clip_ids'])
        easy_pos = int(ds['saliency_pos_labels'][1])
        easy_neg = int(ds['saliency_neg_labels'][1])
        if rel >= set(range(length)):  # 9005: no clip outside
            continue
        assert easy_pos in rel and easy_pos < length
        assert easy_neg not in rel and 0 <= easy_neg < length
    # qid 9004: 5 distinct windows out of its 7, normalised by 75 * 2 s.
    spans = ours[3]['data_samples']['gt_spans']
    windows = {tuple(w) for w in ours[3]['data_samples']['ann'][
        'relevant_windows']}
    xx = torch.stack([spans[:, 0] - spans[:, 1] / 2,
                      spans[:, 0] + spans[:, 1] / 2], dim=1) * 150
    picked = {tuple(round(v) for v in row) for row in xx.tolist()}
    assert len(picked) == 5 and picked <= windows
    assert len(ours[3]['data_samples']['gt_windows']) == 7


def test_collated_batch_matches(official, ours):
    batch = mrhd_collate(ours)
    ref = official['collated_inputs']
    pairs = dict(video_feat='src_vid', video_mask='src_vid_mask',
                 text_feat='src_txt', text_mask='src_txt_mask')
    for key, ref_key in pairs.items():
        torch.testing.assert_close(batch['inputs'][key], ref[ref_key],
                                   atol=1e-6, rtol=0)
    targets = collate_targets(batch['data_samples'])
    ref_t = official['collated_targets']
    torch.testing.assert_close(targets['saliency_all_labels'],
                               ref_t['saliency_all_labels'], atol=0, rtol=0)
    for key in ('saliency_pos_labels', 'saliency_neg_labels'):
        assert targets[key].shape == ref_t[key].shape == (6, 2)
        assert torch.equal(targets[key][:, 0], ref_t[key][:, 0])
        assert torch.equal(targets[key][4], ref_t[key][4])  # qid 9005
    for i, (ours_s, ref_s) in enumerate(zip(targets['span_labels'],
                                            ref_t['span_labels'])):
        if i != 3:  # qid 9004: random subset
            torch.testing.assert_close(ours_s['spans'], ref_s['spans'],
                                       atol=1e-6, rtol=0)


def test_hard_pair_is_stable_where_numpy_argsort_is_not(official):
    # qid 9006: many agg ties. Our stable rule: hard pos = last clip with the
    # max, hard neg = first with the min; the fixture's hard pair agrees.
    ref = official['items'][5]
    agg = np.asarray(ref['agg_scores'])
    ids = np.asarray(ref['meta']['relevant_clip_ids'])
    order = np.argsort(agg, kind='stable')
    assert ids[order[-1]] == ref['saliency_pos_labels'][0] == 29
    assert ids[order[0]] == ref['saliency_neg_labels'][0] == 10
    assert ref['stable_argsort_gives_same_hard_pos_neg']
