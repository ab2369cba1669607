# Copyright (c) mmmrhd contributors. All rights reserved.
import json
import os.path as osp
import re

import numpy as np
import pytest

from mmmrhd.datasets import MRHDDataset, QVHighlightsDataset
from mmmrhd.registry import DATASETS
from mmmrhd.utils.errors import DataError


def build(factory, lines, name='ann.jsonl', **kwargs):
    factory.jsonl(name, lines)
    kwargs.setdefault('data_prefix', factory.prefix())
    return MRHDDataset(ann_file=name, data_root=factory.root, **kwargs)


def test_data_info_fields(factory):
    rec = factory.record(
        qid=7, vid='vidA', duration=30, windows=[(2, 6), (10, 30)],
        clip_ids=[1, 2, 5], scores=[(0, 1, 2), (4, 4, 4), (1, 0, 0)])
    ds = build(factory, [rec])
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert info['qid'] == 7 and info['vid'] == 'vidA'
    assert info['query'] == 'query 7'
    assert info['duration'] == 30.0 and isinstance(info['duration'], float)
    assert info['clip_len'] == 2.0
    assert info['ann'] == rec  # the raw record, unchanged
    assert info['video_feat_dirs'] == [
        osp.join(factory.root, 'sf'),
        osp.join(factory.root, 'clip')
    ]
    assert info['text_feat_dirs'] == [osp.join(factory.root, 'text')]
    assert info['gt_windows'].dtype == np.float32
    np.testing.assert_array_equal(info['gt_windows'], [[2, 6], [10, 30]])
    assert info['saliency_clip_ids'].tolist() == [1, 2, 5]
    assert info['saliency_agg'].tolist() == [3.0, 12.0, 1.0]
    assert ds.metainfo == dict(
        dataset_name='custom', clip_len=2.0, with_mr=True, with_hd=True)


def test_registered_and_absolute_prefix(factory, tmp_path):
    factory.jsonl('ann.jsonl', [factory.record()])
    ds = DATASETS.build(
        dict(
            type='MRHDDataset',
            ann_file=factory.path('ann.jsonl'),  # absolute: kept
            data_root='/somewhere/else',
            data_prefix=dict(video='/abs/video', text='rel')))
    info = ds.get_data_info(0)
    assert info['video_feat_dirs'] == ['/abs/video']
    assert info['text_feat_dirs'] == ['/somewhere/else/rel']


def test_task_selection(factory):
    rec = factory.record()
    mr_only = build(factory, [rec], with_hd=False).get_data_info(0)
    assert 'gt_windows' in mr_only and 'saliency_clip_ids' not in mr_only
    hd_only = build(factory, [rec], with_mr=False).get_data_info(0)
    assert 'gt_windows' not in hd_only and 'saliency_agg' in hd_only
    # A task that is off needs (and checks) nothing.
    no_windows = factory.record(windows=None, relevant_windows=[[9, 1]])
    assert len(build(factory, [no_windows], with_mr=False)) == 1
    no_hd = factory.record(clip_ids=None, scores=None)
    assert len(build(factory, [no_hd], with_hd=False)) == 1
    with pytest.raises(ValueError, match='with_mr and with_hd are both'):
        build(factory, [rec], with_mr=False, with_hd=False)


def test_test_mode_without_ground_truth(factory):
    rec = factory.record(windows=None, clip_ids=None, scores=None)
    ds = build(factory, [rec], test_mode=True)
    info = ds.get_data_info(0)
    assert 'gt_windows' not in info and 'saliency_clip_ids' not in info
    with pytest.raises(KeyError, match=r"ann\.jsonl:1 \(qid=1\): missing "
                       r"field 'relevant_windows' needed by with_mr=True"):
        build(factory, [rec])
    rec = factory.record(windows=((0, 2), ), clip_ids=None, scores=None)
    with pytest.raises(KeyError, match='needed by with_hd=True'):
        build(factory, [rec])
    # Ground truth present in test mode is still checked.
    with pytest.raises(ValueError, match='start > end'):
        build(factory, [factory.record(windows=[(6, 2)])], test_mode=True)


@pytest.mark.parametrize('mutate, exc, match', [
    (lambda r: r.pop('qid'), KeyError, ":2: missing field 'qid'"),
    (lambda r: r.pop('vid'), KeyError, r":2 \(qid=2\): missing field 'vid'"),
    (lambda r: r.pop('query'), KeyError, "missing field 'query'"),
    (lambda r: r.pop('duration'), KeyError, "missing field 'duration'"),
    (lambda r: r.update(qid=2.0), TypeError, "'qid' must be an integer"),
    (lambda r: r.update(vid=5), TypeError, "'vid' must be a string"),
    (lambda r: r.update(query=None), TypeError, "'query' must be a string"),
    (lambda r: r.update(duration='20'), TypeError,
     "'duration' must be a number"),
    (lambda r: r.update(duration=0), ValueError, "'duration' must be a "
     'positive'),
    (lambda r: r.update(relevant_windows=[[2, 21]]), ValueError,
     r'relevant_windows\[0\] = \[2, 21\] lies outside the video \[0, 20\]'),
    (lambda r: r.update(relevant_windows=[[8, 4]]), ValueError,
     'has start > end'),
    (lambda r: r.update(relevant_windows=[]), ValueError, 'is empty'),
    (lambda r: r.update(relevant_clip_ids=[1]), ValueError,
     "'saliency_scores' has 2 rows, expected 1"),
    (lambda r: r.update(relevant_clip_ids=[1, 10]), ValueError,
     r'relevant_clip_ids\[1\] = 10 is outside the video'),
    (lambda r: r.update(relevant_clip_ids=[1, 1]), ValueError,
     'duplicate ids'),
    (lambda r: r.update(saliency_scores=[[1, 2, 3], [4, 5, 4]]), ValueError,
     r'saliency_scores\[1\] = \[4, 5, 4\] has scores outside \[0, 4\]'),
    (lambda r: r.pop('saliency_scores'), KeyError,
     "missing field 'saliency_scores' \\(the other highlight field"),
    (lambda r: r.update(relevant_clip_ids=None), KeyError,
     "missing field 'relevant_clip_ids'"),
])
def test_record_errors_name_file_line_and_field(factory, mutate, exc, match):
    bad = factory.record(qid=2)
    mutate(bad)
    with pytest.raises(exc, match=match) as info:
        build(factory, [factory.record(qid=1), bad])
    assert re.search(r'ann\.jsonl:2\b', str(info.value))
    # One-line tool errors: every record error is a DataError.
    assert isinstance(info.value, DataError)
    assert str(info.value).startswith(str(factory.path('ann.jsonl')))


def test_duplicate_qid_and_malformed_line(factory):
    with pytest.raises(DataError, match=r'ann\.jsonl:3: duplicate '
                       r'qid 1 \(first at line 1;'):
        build(factory, [factory.record(qid=1), factory.record(qid=2),
                        factory.record(qid=1)])
    with pytest.raises(ValueError, match=r'ann\.jsonl:2: malformed JSON'):
        build(factory, [factory.record(qid=1), '{"qid": 2'])
    with pytest.raises(FileNotFoundError, match='missing.jsonl'):
        MRHDDataset(ann_file='missing.jsonl', data_root=factory.root,
                    data_prefix=factory.prefix())


def test_score_range_and_window_tol_are_configurable(factory):
    rec = factory.record(windows=[(0, 20.5)], scores=[(1, 9), (10, 2)])
    with pytest.raises(ValueError, match='lies outside'):
        build(factory, [rec], score_range=(0, 10))
    ds = build(factory, [rec], score_range=(0, 10), window_tol=0.5)
    assert ds.get_data_info(0)['saliency_agg'].tolist() == [10.0, 12.0]


def test_bad_constructor_arguments(factory):
    factory.jsonl('ann.jsonl', [factory.record()])
    kw = dict(ann_file='ann.jsonl', data_root=factory.root)
    with pytest.raises(ValueError, match='needs data_prefix'):
        MRHDDataset(**kw)
    with pytest.raises(KeyError, match="data_prefix lacks 'text'"):
        MRHDDataset(data_prefix=dict(video='sf'), **kw)
    with pytest.raises(TypeError, match=r"data_prefix\['video'\] must be"):
        MRHDDataset(data_prefix=dict(video=[], text='t'), **kw)
    with pytest.raises(ValueError, match='clip_len must be positive'):
        MRHDDataset(data_prefix=factory.prefix(), clip_len=0, **kw)
    with pytest.raises(ValueError, match='score_range'):
        MRHDDataset(data_prefix=factory.prefix(), score_range=(4, 0), **kw)


def test_string_qids_and_serialisation_keep_raw_record(factory):
    recs = [factory.record(qid='a'), factory.record(qid=3, vid='v3')]
    ds = build(factory, recs, serialize_data=True)
    assert [ds.get_data_info(i)['qid'] for i in range(2)] == ['a', 3]
    info = ds.get_data_info(1)
    info['ann']['qid'] = 'changed'  # a private copy
    assert ds.get_data_info(1)['ann'] == json.loads(json.dumps(recs[1]))


def test_qvhighlights_defaults(factory):
    factory.jsonl('ann.jsonl', [factory.record()])
    ds = QVHighlightsDataset(ann_file='ann.jsonl', data_root=factory.root)
    info = ds.get_data_info(0)
    assert info['video_feat_dirs'] == [
        osp.join(factory.root, 'features/slowfast_features'),
        osp.join(factory.root, 'features/clip_features')
    ]
    assert info['text_feat_dirs'] == [
        osp.join(factory.root, 'features/clip_text_features')
    ]
    assert ds.metainfo['dataset_name'] == 'QVHighlights'
    assert info['clip_len'] == 2.0
