# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets import TVSumDataset


def tvsum_record(vid='vidA', domain='BK', num_clips=3, scores=None):
    if scores is None:
        scores = [[1.0] * 20, [5.0] * 20, [2.0] * 10 + [3.0] * 10]
    return dict(qid=vid, query=f'title {vid}', duration=num_clips, vid=vid,
                relevant_clip_ids=None, relevant_windows=None,
                label=scores, domain=domain)


def build(factory, records, **kwargs):
    factory.jsonl('t.jsonl', records)
    return TVSumDataset(ann_file='t.jsonl', data_root=factory.root, **kwargs)


def test_tvsum_targets_hand_computed(factory):
    ds = build(factory, [tvsum_record()])
    info = ds.get_data_info(0)
    assert info['duration'] == 6.0  # 3 clips x 2 s
    assert info['saliency_clip_ids'].tolist() == [0, 1, 2]
    # agg = sum(score - 1): 0, 80, 10 + 20 = 30; target agg / 80 * 12.
    np.testing.assert_array_equal(info['saliency_agg'], [0.0, 12.0, 4.5])
    assert 'gt_windows' not in info
    assert ds.metainfo['domain'] is None
    assert info['text_feat_dirs'][0].endswith('features/query_features')


def test_tvsum_domain_filter(factory):
    records = [tvsum_record('a', 'BK'), tvsum_record('b', 'VU'),
               tvsum_record('c', 'BK')]
    assert [build(factory, records, domain='BK').get_data_info(i)['qid']
            for i in range(2)] == ['a', 'c']
    assert len(build(factory, records, domain=('VU', 'BK'))) == 3
    assert len(build(factory, records)) == 3
    with pytest.raises(ValueError, match=r"no record of domain\(s\) \['PK'\]"):
        build(factory, records, domain='PK')
    with pytest.raises(ValueError, match="unknown TVSum domain.*'XX'"):
        build(factory, records, domain=['BK', 'XX'])


@pytest.mark.parametrize('record, exc, match', [
    (tvsum_record(num_clips=4), ValueError,
     "'label' has 3 rows, expected 4"),
    (tvsum_record(scores=[[1.0] * 19] * 3), ValueError,
     'label rows have 19 scores, expected 20 annotators'),
    (tvsum_record(scores=[[0.0] * 20] * 3), ValueError,
     r'label\[0\] = .* has scores outside \[1, 5\]'),
    (tvsum_record(domain='ZZ'), ValueError, "unknown domain 'ZZ'"),
    (dict(tvsum_record(), duration=2.5), ValueError,
     'integer number of clips'),
    ({k: v for k, v in tvsum_record().items() if k != 'domain'}, KeyError,
     "missing field 'domain'"),
    (dict(tvsum_record(), label=None), KeyError,
     "missing field 'label' needed by with_hd=True"),
])
def test_tvsum_errors(factory, record, exc, match):
    with pytest.raises(exc, match=r't\.jsonl:2 .*' + match):
        build(factory, [tvsum_record('ok'), record])
