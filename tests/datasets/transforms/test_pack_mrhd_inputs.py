# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmmrhd.datasets.transforms import PackMRHDInputs
from mmmrhd.registry import TRANSFORMS


def processed(**extra):
    res = dict(
        qid=3, query='q', vid='v', duration=12.0, clip_len=2.0, num_clips=6,
        ann={'qid': 3, 'relevant_windows': [[0, 4]]}, sample_idx=0,
        video_feat=np.ones((6, 5), dtype=np.float32),
        text_feat=np.ones((2, 4), dtype=np.float64),
        video_feat_dirs=['/x'], text_feat_dirs=['/y'])
    res.update(extra)
    return res


def test_pack_contract_with_targets():
    t = TRANSFORMS.build(dict(type='PackMRHDInputs'))
    res = processed(
        gt_windows=np.float32([[0, 4]]),
        gt_spans=np.float32([[1 / 6, 1 / 3]]),
        saliency_pos_labels=np.array([1, 0]),
        saliency_neg_labels=np.array([5, 4]),
        saliency_all_labels=np.float32([3, 1, 0, 0, 0, 0]))
    out = t(res)
    assert set(out) == {'inputs', 'data_samples'}
    inputs, ds = out['inputs'], out['data_samples']
    assert inputs['video_feat'].dtype == torch.float32
    assert inputs['video_feat'].shape == (6, 5)
    assert inputs['text_feat'].dtype == torch.float32  # cast from float64
    assert set(ds) == {
        'qid', 'query', 'vid', 'duration', 'clip_len', 'num_clips', 'ann',
        'sample_idx', 'gt_windows', 'gt_spans', 'saliency_pos_labels',
        'saliency_neg_labels', 'saliency_all_labels'
    }
    assert ds['ann'] is res['ann']
    assert ds['num_clips'] == 6 and ds['duration'] == 12.0
    assert ds['saliency_pos_labels'].dtype == torch.int64
    assert ds['saliency_pos_labels'].tolist() == [1, 0]
    assert ds['saliency_all_labels'].dtype == torch.float32
    assert ds['gt_windows'].tolist() == [[0.0, 4.0]]


def test_pack_without_ground_truth():
    out = PackMRHDInputs()(processed())
    assert set(out['data_samples']) == {
        'qid', 'query', 'vid', 'duration', 'clip_len', 'num_clips', 'ann',
        'sample_idx'
    }


def test_pack_missing_fields():
    res = processed()
    del res['text_feat']
    with pytest.raises(KeyError, match="results lack 'text_feat' \\(is "
                       'LoadTextFeatures in the pipeline\\?\\)'):
        PackMRHDInputs()(res)
    res = processed()
    del res['ann']
    with pytest.raises(KeyError, match="results lack 'ann'"):
        PackMRHDInputs()(res)
    custom = PackMRHDInputs(meta_keys=('qid', ), optional_keys=())
    assert set(custom(processed())['data_samples']) == {'qid'}
