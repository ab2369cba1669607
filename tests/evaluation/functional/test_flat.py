# Copyright (c) mmmrhd contributors. All rights reserved.
"""Flat ragged arrays, streamed parsing and chunked evaluation: the compact
paths give exactly the results of the straightforward ones."""
import json
import warnings

import numpy as np
import pytest
from oracle_cases import make_case

from mmmrhd.evaluation.functional import (SubmissionWarning, dump_jsonl,
                                          evaluate_qvhighlights,
                                          evaluate_qvhighlights_files,
                                          parse_submission,
                                          parse_submission_files,
                                          reference_evaluate_qvhighlights,
                                          voc_average_precision)
from mmmrhd.evaluation.functional import highlight as hl_module
from mmmrhd.evaluation.functional import moment_retrieval as mr_module
from mmmrhd.evaluation.functional import records as records_module
from mmmrhd.evaluation.functional.ragged import (distinct_counts, ragged_take,
                                                 ragged_to_padded)
from mmmrhd.evaluation.functional.reference import reference_voc_ap


def test_ragged_take_and_padding():
    flat = np.arange(10.)
    counts = np.array([2, 0, 3, 5])
    taken, sel = ragged_take(flat, counts, np.array([3, 0, 1, 3]), block=2)
    assert sel.tolist() == [5, 2, 0, 5]
    assert taken.tolist() == [5, 6, 7, 8, 9, 0, 1, 5, 6, 7, 8, 9]
    # Taking every run in order returns the input itself (no copy).
    same, _ = ragged_take(flat, counts, np.arange(4))
    assert same is flat
    padded = ragged_to_padded(flat, counts, 3, -1.)
    assert padded.tolist() == [[0, 1, -1], [-1, -1, -1], [2, 3, 4], [5, 6, 7]]
    rows = ragged_to_padded(np.arange(12).reshape(6, 2), np.array([1, 5]), 2,
                            0)
    assert rows.shape == (2, 2, 2) and rows[1].tolist() == [[2, 3], [4, 5]]
    assert distinct_counts(np.array([3, 0, 3, 7])).tolist() == [0, 3, 7]
    assert distinct_counts(np.array([], dtype=int)).size == 0


def test_voc_ap_equals_the_loop_on_random_rows():
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, preds = int(rng.integers(1, 20)), int(rng.integers(1, 14))
        valid = np.arange(preds)[None] < rng.integers(0, preds + 1,
                                                      rows)[:, None]
        tp = (rng.random((rows, preds)) < rng.random()) & valid
        num_gt = np.maximum(tp.sum(1) + rng.integers(0, 3, rows), 1)
        ours = voc_average_precision(tp.astype(float), valid, num_gt)
        for r in range(rows):
            flags = tp[r, valid[r]].astype(float).tolist()
            # No prediction at all: AP 0 (the official early return).
            expected = reference_voc_ap(flags, int(num_gt[r]))
            assert ours[r] == expected


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        return fn(*args, **kwargs)


def test_streamed_equals_in_memory_and_is_compact(tmp_path):
    sub, gt = make_case(3, num_queries=120, integers=True, reversed_rate=.1)
    sub_file, gt_file = tmp_path / 's.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(sub_file))
    dump_jsonl(gt, str(gt_file))
    a = _quiet(parse_submission, sub, gt)
    b = _quiet(parse_submission_files, str(sub_file), str(gt_file))
    assert a.qids == b.qids == [s['qid'] for s in sub]
    for key in ('pred_windows_flat', 'pred_window_counts', 'gt_windows_flat',
                'gt_window_counts', 'pred_scores_flat', 'pred_score_counts',
                'gt_scores_flat', 'gt_clip_counts'):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert b.gt_scores_flat.dtype == np.int8
    assert set(np.unique(b.gt_scores_flat)) <= {0, 2, 3, 4}
    assert b.pred_windows_flat.dtype == np.float64
    assert b.gt_clip_counts.sum() == len(b.gt_scores_flat)
    # GT rows follow the submission order, not the GT file's.
    by_qid = {g['qid']: g for g in gt}
    windows = b.gt_windows
    for q, qid in enumerate(b.qids[:5]):
        assert windows[q].tolist() == by_qid[qid]['relevant_windows']


def test_tiny_chunks_and_flushes_give_identical_results(
        monkeypatch, tmp_path):
    sub, gt = make_case(4, num_queries=90, integers=True, reversed_rate=.1,
                        max_gt=12, equal_gt=True)
    sub_file, gt_file = tmp_path / 's.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(sub_file))
    dump_jsonl(gt, str(gt_file))
    expected = json.dumps(_quiet(reference_evaluate_qvhighlights, sub, gt))
    assert json.dumps(_quiet(evaluate_qvhighlights, sub, gt)) == expected
    monkeypatch.setattr(mr_module, 'CHUNK_QUERIES', 7)
    monkeypatch.setattr(hl_module, 'HL_CHUNK_QUERIES', 5)
    monkeypatch.setattr(records_module, 'FLUSH_VALUES', 50)
    monkeypatch.setattr(records_module, 'FLUSH_RECORDS', 3)
    res = _quiet(evaluate_qvhighlights_files, str(sub_file), str(gt_file))
    assert json.dumps(res) == expected


def test_file_errors_name_the_line(tmp_path):
    sub, gt = make_case(5, num_queries=4)
    sub_file, gt_file = tmp_path / 's.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(gt, str(gt_file))
    sub[3]['pred_saliency_scores'][1] = None
    dump_jsonl(sub, str(sub_file))
    with pytest.raises(ValueError,
                       match=rf'{sub_file}: line 4 \(qid {sub[3]["qid"]}\): '
                       r'pred_saliency_scores\[1\] = None is not a number'):
        parse_submission_files(str(sub_file), str(gt_file))
    gt[1]['duration'] = float('nan')
    dump_jsonl(gt, str(gt_file))
    with pytest.raises(ValueError,
                       match=rf"{gt_file}: line 2 .*'duration' must be a "
                       'finite number'):
        parse_submission_files(str(sub_file), str(gt_file))
