# Copyright (c) mmmrhd contributors. All rights reserved.
"""Regression: official numbers of fixed generated submissions.

Every expected value below was produced by the OFFICIAL evaluator
(jayleicn/moment_detr ``standalone_eval/eval.py`` @ b7e553ac, numpy 2.4.6,
scikit-learn 1.9.1, unmodified command line) run on exactly the input the
test generates; they are hard-coded so that the check runs without it (the
optional oracle test ``test_official_oracle.py`` re-derives them). The
submissions hold JSON-integer windows and scores with many ties and reversed
/ zero-length windows: before the evaluator scored a reversed window's NaN
IoU like the official code (a match), ``MR-full-mAP@0.5`` of the first case
was 45.97 instead of 50.56.
"""
import json
import os.path as osp
import warnings

import pytest
from oracle_cases import CASES, CRASH_CASES, make_case, make_integer_submission

from mmmrhd.evaluation.functional import (SubmissionWarning, dump_jsonl,
                                          evaluate_qvhighlights,
                                          evaluate_qvhighlights_files,
                                          load_jsonl)

# Official brief of each generated case (see the module docstring).
OFFICIAL_BRIEF = {
    'int_ties_reversed': {
        'MR-full-R1@0.5': 37.0, 'MR-full-R1@0.7': 24.5, 'MR-full-mAP': 32.99,
        'MR-full-mAP@0.5': 50.56, 'MR-full-mAP@0.75': 31.51,
        'MR-long-mAP': 42.11, 'MR-middle-mAP': 39.24, 'MR-short-mAP': 21.52,
        'HL-min-Fair-mAP': 35.07, 'HL-min-Fair-Hit1': 50.0,
        'HL-min-Good-mAP': 25.48, 'HL-min-Good-Hit1': 42.5,
        'HL-min-VeryGood-mAP': 14.73, 'HL-min-VeryGood-Hit1': 29.5
    },
    'zero_length_windows': {
        'MR-full-R1@0.5': 27.5, 'MR-full-R1@0.7': 17.5, 'MR-full-mAP': 28.6,
        'MR-full-mAP@0.5': 46.79, 'MR-full-mAP@0.75': 26.13,
        'MR-long-mAP': 37.13, 'MR-middle-mAP': 30.91, 'MR-short-mAP': 16.74,
        'HL-min-Fair-mAP': 36.95, 'HL-min-Fair-Hit1': 50.5,
        'HL-min-Good-mAP': 26.09, 'HL-min-Good-Hit1': 42.0,
        'HL-min-VeryGood-mAP': 15.73, 'HL-min-VeryGood-Hit1': 26.5
    },
    'many_gt_windows_tied': {
        'MR-full-R1@0.5': 44.0, 'MR-full-R1@0.7': 24.5, 'MR-full-mAP': 16.67,
        'MR-full-mAP@0.5': 27.35, 'MR-full-mAP@0.75': 16.28,
        'MR-long-mAP': 30.25, 'MR-middle-mAP': 18.3, 'MR-short-mAP': 10.32,
        'HL-min-Fair-mAP': 36.53, 'HL-min-Fair-Hit1': 49.0,
        'HL-min-Good-mAP': 26.18, 'HL-min-Good-Hit1': 40.0,
        'HL-min-VeryGood-mAP': 14.98, 'HL-min-VeryGood-Hit1': 23.5
    },
}
# Official 'short' bucket of int_ties_reversed (every threshold).
OFFICIAL_SHORT = {
    'MR-mAP': {
        '0.5': 40.81, '0.55': 30.55, '0.6': 29.92, '0.65': 27.4,
        '0.7': 19.24, '0.75': 16.76, '0.8': 14.72, '0.85': 11.93,
        '0.9': 11.93, '0.95': 11.93, 'average': 21.52
    },
    'MR-R1': {
        '0.5': 25.69, '0.55': 18.75, '0.6': 18.75, '0.65': 15.97,
        '0.7': 9.72, '0.75': 8.33, '0.8': 6.25, '0.85': 3.47, '0.9': 3.47,
        '0.95': 3.47
    }
}
# Official brief of make_integer_submission(val GT, seed=0) on
# highlight_val_release.jsonl (the shape on the real val set).
OFFICIAL_VAL_INT_BRIEF = {
    'MR-full-R1@0.5': 45.94, 'MR-full-R1@0.7': 39.35, 'MR-full-mAP': 46.61,
    'MR-full-mAP@0.5': 60.36, 'MR-full-mAP@0.75': 51.03, 'MR-long-mAP': 56.2,
    'MR-middle-mAP': 42.91, 'MR-short-mAP': 15.87, 'HL-min-Fair-mAP': 27.0,
    'HL-min-Fair-Hit1': 24.26, 'HL-min-Good-mAP': 21.51,
    'HL-min-Good-Hit1': 22.71, 'HL-min-VeryGood-mAP': 12.49,
    'HL-min-VeryGood-Hit1': 17.94
}


def _case(name):
    seed = (list(CASES) + list(CRASH_CASES)).index(name)
    return make_case(seed, **CASES[name])


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        return fn(*args)


@pytest.mark.parametrize('name', list(OFFICIAL_BRIEF))
def test_generated_case_gives_official_numbers(name, tmp_path):
    sub, gt = _case(name)
    res = _quiet(evaluate_qvhighlights, sub, gt)
    # Same keys in the same order and the same values.
    assert list(res['brief'].items()) == list(OFFICIAL_BRIEF[name].items())
    sub_file, gt_file = tmp_path / 's.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(sub_file))
    dump_jsonl(gt, str(gt_file))
    assert _quiet(evaluate_qvhighlights_files, str(sub_file),
                  str(gt_file)) == res
    if name == 'int_ties_reversed':
        assert res['short'] == OFFICIAL_SHORT
        # The case really has JSON integers, score ties and windows that
        # are reversed AND as long as a GT window of their query.
        windows = [w for s in sub for w in s['pred_relevant_windows']]
        assert {type(x) for w in windows for x in w} == {int}
        lengths = {g['qid']: {e - s for s, e in g['relevant_windows']}
                   for g in gt}
        assert any(w[0] - w[1] in lengths[s['qid']] for s in sub
                   for w in s['pred_relevant_windows'] if w[1] < w[0])


def test_integer_submission_on_val_gives_official_numbers(qvh_dir):
    gt = load_jsonl(osp.join(qvh_dir, 'highlight_val_release.jsonl'))
    sub = make_integer_submission(gt, seed=0)
    res = _quiet(evaluate_qvhighlights, sub, gt)
    assert json.dumps(res['brief']) == json.dumps(OFFICIAL_VAL_INT_BRIEF)
