# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.annotation import (check_clip_ids, check_id,
                                        check_number, check_score_matrix,
                                        check_windows, load_jsonl_records)


def test_load_jsonl_records_skips_blank_lines_and_keeps_line_numbers(
        factory):
    path = factory.jsonl('a.jsonl', [{'qid': 1}, '', '  ', {'qid': 2}])
    records = load_jsonl_records(path)
    assert records == [(1, {'qid': 1}), (4, {'qid': 2})]


def test_load_jsonl_records_no_trailing_newline(factory):
    path = factory.path('b.jsonl')
    with open(path, 'w') as f:
        f.write('{"qid": 1}\n{"qid": 2}')
    assert [r['qid'] for _, r in load_jsonl_records(path)] == [1, 2]


@pytest.mark.parametrize('line, exc, match', [
    ('{"qid": 1,', ValueError, r'c\.jsonl:2: malformed JSON line'),
    ('[1, 2]', TypeError, r'c\.jsonl:2: expected a JSON object, got list'),
])
def test_load_jsonl_records_bad_lines(factory, line, exc, match):
    path = factory.jsonl('c.jsonl', [{'qid': 1}, line])
    with pytest.raises(exc, match=match):
        load_jsonl_records(path)


def test_load_jsonl_records_missing_and_empty(factory):
    with pytest.raises(FileNotFoundError, match='nope.jsonl'):
        load_jsonl_records(factory.path('nope.jsonl'))
    with pytest.raises(ValueError, match='holds no record'):
        load_jsonl_records(factory.jsonl('empty.jsonl', ['']))


def test_check_id_and_number():
    assert check_id(3, 'qid', 'w') == 3
    assert check_id('abc', 'qid', 'w') == 'abc'
    for bad in (True, 1.5, None, [1]):
        with pytest.raises(TypeError, match="w: 'qid' must be an integer"):
            check_id(bad, 'qid', 'w')
    assert check_number(30.96, 'duration', 'w', positive=True) == 30.96
    with pytest.raises(TypeError, match="'duration' must be a number"):
        check_number('150', 'duration', 'w')
    with pytest.raises(TypeError):
        check_number(True, 'duration', 'w')
    for bad in (0, -2.0, float('nan'), float('inf')):
        with pytest.raises(ValueError, match="'duration' must be a positive"):
            check_number(bad, 'duration', 'w', positive=True)


def test_check_windows_values_and_errors():
    out = check_windows([[0, 10], [24.3, 30.4]], 'relevant_windows', 'w',
                        duration=30.96, tol=0.1)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, np.float32([[0, 10], [24.3, 30.4]]))
    # within the tolerance: kept unchanged
    out = check_windows([[-0.05, 31.0]], 'f', 'w', duration=30.96, tol=0.1)
    np.testing.assert_array_equal(out, np.float32([[-0.05, 31.0]]))
    cases = [
        ([[10, 4]], ValueError, r'f\[0\] = \[10, 4\] has start > end'),
        ([[0, 4], [20, 31.2]], ValueError,
         r'f\[1\] = \[20, 31\.2\] lies outside the video \[0, 30\.96\]'),
        ([[-1, 4]], ValueError, 'lies outside'),
        ([], ValueError, "'f' is empty"),
        ([[1, 2, 3]], TypeError, r'f\[0\] must be a \[start, end\] pair'),
        ([['1', 2]], TypeError, r'f\[0\] must be a \[start, end\] pair'),
        ({'a': 1}, TypeError, "'f' must be a list"),
        ([[float('nan'), 2]], ValueError, 'not finite'),
    ]
    for value, exc, match in cases:
        with pytest.raises(exc, match=match):
            check_windows(value, 'f', 'w', duration=30.96, tol=0.1)


def test_check_clip_ids():
    out = check_clip_ids([3, 1, 74], 'ids', 'w', duration=150, clip_len=2)
    assert out.dtype == np.int64 and out.tolist() == [3, 1, 74]
    cases = [
        ([75], ValueError, r'ids\[0\] = 75 is outside the video'),
        ([-1], ValueError, 'is outside the video'),
        ([1, 2, 1], ValueError, r'duplicate ids \[1\]'),
        ([1.0], TypeError, r'ids\[0\] must be an integer'),
        ([], ValueError, "'ids' is empty"),
        (None, TypeError, "'ids' must be a list"),
    ]
    for value, exc, match in cases:
        with pytest.raises(exc, match=match):
            check_clip_ids(value, 'ids', 'w', duration=150, clip_len=2)


def test_check_score_matrix():
    out = check_score_matrix([[0, 1, 4], [2, 2, 2]], 's', 'w', 2, (0, 4))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.sum(1), [5, 6])
    cases = [
        ([[0, 1, 4]], ValueError, "'s' has 1 rows, expected 2"),
        ([[0, 1, 4], [1, 1]], ValueError, r's\[1\] has 2 scores, but'),
        ([[0, 1, 5], [1, 1, 1]], ValueError,
         r's\[0\] = \[0, 1, 5\] has scores outside \[0, 4\]'),
        ([[0, 1, -1], [1, 1, 1]], ValueError, 'outside'),
        ([[0, 1, float('nan')], [1, 1, 1]], ValueError, 'outside'),
        ([[0, 'a', 1], [1, 1, 1]], TypeError, r's\[0\] must be a non-empty'),
        ([[], []], TypeError, r's\[0\] must be a non-empty'),
        ('x', TypeError, "'s' must be a list"),
    ]
    for value, exc, match in cases:
        with pytest.raises(exc, match=match):
            check_score_matrix(value, 's', 'w', 2, (0, 4))
