# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets import CharadesSTADataset

RECORD = {
    'qid': 12404, 'query': 'person turn a light on.', 'duration': 30.96,
    'vid': '3MSZA', 'relevant_windows': [[24.3, 30.4]]
}


def test_charades_defaults_and_fields(factory):
    factory.jsonl('a.jsonl', [RECORD])
    ds = CharadesSTADataset(ann_file='a.jsonl', data_root=factory.root)
    info = ds.get_data_info(0)
    assert info['clip_len'] == 1.0
    assert info['duration'] == 30.96
    np.testing.assert_array_equal(info['gt_windows'],
                                  np.float32([[24.3, 30.4]]))
    assert 'saliency_clip_ids' not in info
    assert info['ann'] == RECORD
    assert ds.metainfo['dataset_name'] == 'Charades-STA'
    assert ds.metainfo['with_hd'] is False
    assert info['video_feat_dirs'][0].endswith('features/slowfast_features')


def test_charades_errors(factory):
    bad = dict(RECORD, relevant_windows=[[24.3, 31.5]])
    factory.jsonl('a.jsonl', [RECORD, bad])
    with pytest.raises(ValueError, match=r'a\.jsonl:2 \(qid=12404\): '
                       r'relevant_windows\[0\] = \[24\.3, 31\.5\] lies '
                       r'outside the video \[0, 30\.96\]'):
        CharadesSTADataset(ann_file='a.jsonl', data_root=factory.root)
    factory.jsonl('b.jsonl', [RECORD])
    # Asking for highlight ground truth on MR-only data is an error.
    with pytest.raises(KeyError, match="'relevant_clip_ids'/'saliency_"
                       "scores' needed by with_hd=True"):
        CharadesSTADataset(ann_file='b.jsonl', data_root=factory.root,
                           with_hd=True)
