# Copyright (c) mmmrhd contributors. All rights reserved.
"""jsonl I/O, submission records and qid checks."""
import json

import numpy as np
import pytest

from mmmrhd.evaluation.functional import (SUBMISSION_KEYS, SubmissionError,
                                          dump_jsonl, load_jsonl,
                                          to_submission_record)
from mmmrhd.evaluation.functional.submission import (check_same_qids,
                                                     check_unique,
                                                     parse_scores,
                                                     parse_windows,
                                                     record_qids)


def test_load_jsonl(tmp_path):
    path = tmp_path / 'a.jsonl'
    path.write_text('{"qid": 1}\n\n{"qid": "b"}')  # blank line, no final \n
    assert load_jsonl(str(path)) == [{'qid': 1}, {'qid': 'b'}]
    with pytest.raises(FileNotFoundError, match='missing.jsonl'):
        load_jsonl(str(tmp_path / 'missing.jsonl'))
    path.write_text('{"qid": 1}\n{"qid": \n')
    with pytest.raises(SubmissionError, match='line 2 is not valid JSON'):
        load_jsonl(str(path))
    path.write_text('[1, 2]\n')
    with pytest.raises(SubmissionError, match='line 1 is a JSON list'):
        load_jsonl(str(path))


def test_submission_record_and_dump(tmp_path):
    pred = dict(ann={'x': 1},
                pred_saliency_scores=[.5],
                duration=150,
                vid='v',
                pred_relevant_windows=[[0., 2., .9]],
                query='q',
                qid=7,
                extra='dropped')
    record = to_submission_record(pred)
    assert list(record) == list(SUBMISSION_KEYS)
    assert 'duration' not in record and 'ann' not in record
    mr_only = to_submission_record(
        dict(qid=1, query='q', vid='v', pred_relevant_windows=[]))
    assert list(mr_only) == ['qid', 'query', 'vid', 'pred_relevant_windows']
    with pytest.raises(SubmissionError, match="qid 1 has no 'vid'"):
        to_submission_record(dict(qid=1, query='q'))
    out = tmp_path / 'sub' / 'dir' / 'preds.jsonl'
    dump_jsonl([record, mr_only], str(out))
    lines = out.read_text().splitlines()
    assert [json.loads(x) for x in lines] == [record, mr_only]
    assert lines[0].startswith('{"qid": 7, "query": "q", "vid": "v", '
                               '"pred_relevant_windows"')


def test_record_qids_errors():
    assert record_qids([{'qid': 1}, {'qid': 'a'}], 'f') == [1, 'a']
    with pytest.raises(SubmissionError, match='f: record 0 is a list'):
        record_qids([[1]], 'f')
    with pytest.raises(SubmissionError, match='record 1 has no "qid"'):
        record_qids([{'qid': 1}, {}], 'f')
    for bad in (True, 1.0, None, [1]):
        with pytest.raises(SubmissionError, match='must be int or str'):
            record_qids([{'qid': bad}], 'f')


def test_check_unique():
    check_unique([1, 2, 3], 'f')
    with pytest.raises(SubmissionError,
                       match=r'f: 2 duplicate qid\(s\) \(1, 3\)'):
        check_unique([1, 2, 1, 3, 3], 'f')


def test_check_same_qids_messages():
    check_same_qids([1, 2], [2, 1], 'P', 'G')
    with pytest.raises(SubmissionError) as e:
        check_same_qids([1, 2, 9], list(range(1, 8)), 'P', 'G')
    msg = str(e.value)
    assert "5 qid(s) of G missing from P (3, 4, 5, ...)" in msg
    assert "1 qid(s) of P not in G (9)" in msg
    assert '\n' not in msg
    with pytest.raises(SubmissionError,
                       match=r"qid types differ: P has '2579' \(str\) where "
                       r"G has 2579 \(int\), and '2579' != 2579"):
        check_same_qids(['2579'], [2579], 'P', 'G')


def test_parse_windows_and_scores():
    w = parse_windows([[0, 2, 1], [2.5, 4, .5]], 'r', 'f', 3)
    assert w.dtype.name == 'float64' and w.tolist() == [[0, 2, 1],
                                                        [2.5, 4, .5]]
    assert parse_windows([], 'r', 'f', 3).shape == (0, 3)
    # Other real number types (numpy scalars) take the slow path.
    w = parse_windows([(np.float32(1.5), np.int64(3), 0.5)], 'r', 'f', 3)
    assert w.tolist() == [[1.5, 3., .5]]
    bad_windows = {
        'not a list': ({
            'a': 1
        }, "must be a list of .start, end, score., "
                       'got dict'),
        'too short': ([[0, 2]], r'f\[0\] = \[0, 2\] is not'),
        'string': ([[0, 2, 1], ['0', 2, 1]], r'f\[1\] = '),
        'bool': ([[0, 2, True]], r'f\[0\] = '),
        'None': ([[0, None, 1]], r'f\[0\] = '),
        'nan': ([[0, float('nan'), 1]], 'is not finite'),
        'inf': ([[0, 2, 1], [0, 2, float('inf')]], r'f\[1\].*not finite'),
    }
    for name, (value, match) in bad_windows.items():
        with pytest.raises(SubmissionError, match=match):
            parse_windows(value, 'r', 'f', 3)
    assert parse_scores([1, 2.5], 'r', 'f').tolist() == [1, 2.5]
    for value, match in (([], 'got an empty list'), (None, 'got NoneType'),
                         ([1, 'x'], r"f\[1\] = 'x' is not a number"),
                         ([1, float('nan')], r'f\[1\] = nan is not finite')):
        with pytest.raises(SubmissionError, match=match):
            parse_scores(value, 'r', 'f')
