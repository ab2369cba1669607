# Copyright (c) mmmrhd contributors. All rights reserved.
"""Bad data found by the dataset, named file by file (issue 7, item 4)."""
import numpy as np
import pytest

from mmmrhd.datasets import QVHighlightsDataset, TVSumDataset
from mmmrhd.datasets.feature_rules import annotated_extent, required_num_clips
from mmmrhd.utils.errors import DataError

TEST = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='PackMRHDInputs'),
]


def build(factory, records, pipeline=TEST, **kwargs):
    factory.jsonl('ann.jsonl', records)
    return QVHighlightsDataset(
        ann_file='ann.jsonl', data_root=factory.root,
        data_prefix=factory.prefix(), pipeline=pipeline, **kwargs)


def test_required_num_clips_rule():
    info = dict(clip_len=2.0, gt_windows=np.float32([[2, 6], [140, 150]]),
                saliency_clip_ids=np.int64([3, 70, 74]))
    # Annotated up to 150 s = 75 clips; the last one may be missing.
    assert annotated_extent(info) == 150
    assert required_num_clips(info, slack=1) == 74
    assert required_num_clips(info, slack=0) == 75
    # A partial last clip: 137 s needs ceil(68.5) = 69 clips, 68 with slack.
    info = dict(clip_len=2.0, gt_windows=np.float32([[130, 137]]))
    assert required_num_clips(info, slack=1) == 68
    # Clip ids alone: id k ends at (k + 1) * clip_len (official: one id == L
    # tolerated).
    info = dict(clip_len=2.0, saliency_clip_ids=np.int64([0, 9]))
    assert required_num_clips(info, slack=1) == 9
    assert required_num_clips(dict(clip_len=2.0), slack=1) == 0


def test_short_feature_file_at_test_time_is_an_error(factory):
    """Once scored without a word: the metrics changed silently."""
    rec = factory.record(qid=1, vid='a', duration=150,
                         windows=[(100, 150)], clip_ids=[50, 74],
                         scores=[(1, 1, 1), (2, 2, 2)])
    factory.video('a', dict(sf=40, clip=40))  # both truncated at 80 s
    factory.text(1)
    ds = build(factory, [rec], test_mode=True)
    with pytest.raises(DataError, match=(
            r"^video feature file .*sf/a\.npz has 40 clips \(80 s at "
            r"clip_len 2\), but qid 1 \(vid 'a'\) is annotated up to 150 s, "
            r'which needs at least 74 clips; the file is truncated')):
        ds[0]
    assert ds.get_data_info(0)['min_num_clips'] == 74


def test_one_missing_last_clip_is_tolerated(factory):
    rec = factory.record(qid=1, vid='a', duration=150,
                         windows=[(100, 150)], clip_ids=[74],
                         scores=[(1, 1, 1)])
    factory.video('a', dict(sf=75, clip=74))  # released: 1-clip gaps
    factory.text(1)
    assert build(factory, [rec])[0]['inputs']['video_feat'].shape[0] == 74
    factory.video('a', dict(sf=75, clip=73))
    with pytest.raises(DataError, match='has 73 clips'):
        build(factory, [rec])[0]
    # The check can be switched off (then the official behaviour).
    ds = build(factory, [rec], feat_len_slack=None)
    assert ds.get_data_info(0)['min_num_clips'] == 0
    assert ds[0]['inputs']['video_feat'].shape[0] == 73


def test_max_len_truncation_is_not_a_data_error(factory):
    # A 200-s video cut to max_len = 75 clips is a config choice.
    rec = factory.record(qid=1, vid='a', duration=200, windows=[(180, 200)],
                         clip_ids=[99], scores=[(1, 1, 1)])
    factory.video('a', dict(sf=100, clip=100))
    factory.text(1)
    assert build(factory, [rec])[0]['inputs']['video_feat'].shape[0] == 75


def test_tvsum_has_no_length_rule_by_default(factory):
    assert TVSumDataset.__init__.__defaults__ is not None
    factory.jsonl('tv.jsonl', [
        dict(qid='x', vid='x', query='t', duration=6, domain='BK',
             label=[[1] * 20] * 6)
    ])
    ds = TVSumDataset(ann_file='tv.jsonl', data_root=factory.root,
                      data_prefix=factory.prefix())
    assert ds.get_data_info(0)['min_num_clips'] == 0
    ds = TVSumDataset(ann_file='tv.jsonl', data_root=factory.root,
                      data_prefix=factory.prefix(), feat_len_slack=1)
    assert ds.get_data_info(0)['min_num_clips'] == 5


def test_int_and_str_qid_are_the_same_file(factory):
    """600 and "600" both read qid600.npz: a duplicate, named."""
    with pytest.raises(DataError, match=(
            r'ann\.jsonl:2: duplicate qid \'600\' \(first at line 1; qids '
            r'are compared as strings, so 600 and "600" are the same\)')):
        build(factory, [factory.record(qid=600), factory.record(qid='600')],
              pipeline=[])
    # Distinct strings stay distinct.
    ds = build(factory, [factory.record(qid=600), factory.record(qid='0600')],
               pipeline=[])
    assert [ds.get_data_info(i)['qid'] for i in range(2)] == [600, '0600']


@pytest.mark.parametrize('qid', ['', ' ', 'a/b', '..\\x'])
def test_qid_must_be_a_file_name(factory, qid):
    with pytest.raises(DataError, match=r"ann\.jsonl:1: 'qid' must be a "
                       'non-empty id without path separators'):
        build(factory, [factory.record(qid=qid)], pipeline=[])


def test_non_utf8_annotation_names_file_and_line(factory):
    path = factory.path('ann.jsonl')
    good = factory.record(qid=1)
    with open(path, 'wb') as f:
        f.write((str(good).replace("'", '"') + '\n').encode())
        f.write(b'{"qid": 2, "query": "caf\xe9", "vid": "a"}\n')
    with pytest.raises(DataError, match=(
            r'^.*ann\.jsonl:2: not valid UTF-8 \(byte 0xe9 at column 25\); '
            'annotation files must be UTF-8 encoded$')):
        QVHighlightsDataset(ann_file='ann.jsonl', data_root=factory.root,
                            data_prefix=factory.prefix())


def test_utf8_bom_and_line_separator_inside_a_string(factory):
    path = factory.path('ann.jsonl')
    rec = factory.record(qid=1, query='a\u2028b')
    import json
    with open(path, 'w', encoding='utf-8-sig') as f:
        f.write(json.dumps(rec, ensure_ascii=False) + '\n')
        f.write(json.dumps(factory.record(qid=2)) + '\n')
    ds = QVHighlightsDataset(ann_file='ann.jsonl', data_root=factory.root,
                             data_prefix=factory.prefix())
    assert ds.get_data_info(0)['query'] == 'a\u2028b'
    assert len(ds) == 2


def test_one_file_of_the_wrong_width_is_named(factory):
    """Once: 'cannot batch sequences of shapes ...' from the collate."""
    records = [factory.record(qid=q, vid=f'v{q}') for q in (1, 2)]
    factory.video('v1', dict(sf=10, clip=10), dims=dict(sf=6, clip=4))
    factory.video('v2', dict(sf=10, clip=10), dims=dict(sf=6, clip=5))
    factory.text(1)
    factory.text(2)
    ds = build(factory, records)
    ds[0]
    with pytest.raises(DataError, match=(
            r'^video feature file .*clip/v2\.npz has width 5, but '
            r'.*clip/v1\.npz \(loaded earlier from the same stream '
            r'.*clip/\{vid\}\.npz\) has width 4')):
        ds[1]
    factory.text(2, dim=3)
    ds = build(factory, records, pipeline=TEST[2:3])
    ds[0]
    with pytest.raises(DataError, match=r'text feature file .*qid2\.npz has '
                       r'width 3, but .*qid1\.npz'):
        ds[1]


def test_nan_in_features_is_a_data_error(factory):
    factory.npz('sf/a.npz', features=np.float32([[0, 1]] * 9 + [[np.inf,
                                                                 0]]))
    factory.video('a', dict(clip=10))
    factory.text(1)
    ds = build(factory, [factory.record(qid=1, vid='a')])
    with pytest.raises(DataError, match=r'sf/a\.npz has NaN/inf values in '
                       r'rows \[9\]'):
        ds[0]


def test_collect_problems_lists_every_bad_record(factory):
    records = [
        factory.record(qid=1),
        factory.record(qid=2, windows=[(8, 4)]),
        '{"qid": 3',
        factory.record(qid='1'),
        factory.record(qid=4),
    ]
    factory.jsonl('ann.jsonl', records)
    ds = QVHighlightsDataset(
        ann_file='ann.jsonl', data_root=factory.root,
        data_prefix=factory.prefix(), lazy_init=True)
    infos, problems = ds.collect_problems()
    assert [i['qid'] for i in infos] == [1, 4]
    assert len(problems) == 3
    # Unreadable lines first, then the records that fail their checks.
    assert 'ann.jsonl:3: malformed JSON' in problems[0]
    assert 'ann.jsonl:2 (qid=2)' in problems[1]
    assert 'start > end' in problems[1]
    assert 'ann.jsonl:4' in problems[2] and 'duplicate qid' in problems[2]
    # The dataset is unchanged: building it normally raises the first one.
    with pytest.raises(DataError, match='ann.jsonl:3: malformed JSON'):
        ds.full_init()
