# Copyright (c) mmmrhd contributors. All rights reserved.
"""Whole QVHighlights / Charades-STA evaluations: parity with the official
output files, layout, variants and every error path."""
import json
import os.path as osp
import warnings

import numpy as np
import pytest

from mmmrhd.evaluation.functional import (SubmissionError, SubmissionWarning,
                                          evaluate_qvhighlights, load_jsonl,
                                          reference_evaluate_qvhighlights)

OFFICIAL = [('sample_val_preds.jsonl', 'sample_val_preds_metrics_raw.json'),
            ('ckpt_val_preds.jsonl', 'ckpt_val_preds_metrics.json')]
SECTIONS = [
    'brief', 'HL-min-Fair', 'HL-min-Good', 'HL-min-VeryGood', 'full', 'long',
    'middle', 'short'
]


@pytest.fixture(scope='module')
def val_gt(qvh_dir):
    return load_jsonl(osp.join(qvh_dir, 'highlight_val_release.jsonl'))


def perfect_submission(gt):
    """Windows = the GT windows; saliency = mean annotator score."""
    sub = []
    for g in gt:
        scores = np.zeros(int(g['duration'] / 2))
        if 'relevant_clip_ids' in g:
            scores[g['relevant_clip_ids']] = np.mean(g['saliency_scores'], 1)
        record = dict(qid=g['qid'],
                      query=g['query'],
                      vid=g['vid'],
                      pred_relevant_windows=[[*w, 1.]
                                             for w in g['relevant_windows']])
        if 'relevant_clip_ids' in g:
            record['pred_saliency_scores'] = scores.tolist()
        sub.append(record)
    return sub


@pytest.mark.parametrize('pred_file,metrics_file', OFFICIAL)
def test_official_files_reproduced_exactly(qvh_dir, val_gt, pred_file,
                                           metrics_file):
    sub = load_jsonl(osp.join(qvh_dir, 'eval_sample', pred_file))
    with open(osp.join(qvh_dir, 'eval_sample', metrics_file)) as f:
        expected_text = f.read()
    ours = evaluate_qvhighlights(sub, val_gt)
    # Same keys, key order, values and formatting as the official JSON.
    assert json.dumps(ours, indent=4) == expected_text
    assert list(ours) == SECTIONS


def test_reference_reproduces_official_file(qvh_dir, val_gt):
    sub = load_jsonl(osp.join(qvh_dir, 'eval_sample', OFFICIAL[0][0]))
    with open(osp.join(qvh_dir, 'eval_sample', OFFICIAL[0][1])) as f:
        expected_text = f.read()
    ref = reference_evaluate_qvhighlights(sub, val_gt)
    assert json.dumps(ref, indent=4) == expected_text


def test_perfect_val_submission(val_gt):
    brief = evaluate_qvhighlights(perfect_submission(val_gt), val_gt)['brief']
    # 13 val queries have > 10 GT windows: only 10 can be predicted
    # (README: a perfect prediction file scores 99.76).
    assert brief['MR-full-mAP'] == 99.76
    assert brief['MR-full-R1@0.5'] == brief['MR-full-R1@0.7'] == 100.
    assert brief['HL-min-Fair-Hit1'] == 100.


def test_released_test_gt_evaluates(qvh_dir):
    gt = load_jsonl(osp.join(qvh_dir, 'highlight_test_with_gt.jsonl'))
    assert len(gt) == 1542
    res = evaluate_qvhighlights(perfect_submission(gt), gt)
    assert list(res) == SECTIONS
    assert res['brief']['MR-full-R1@0.7'] == 100.
    assert 99 < res['brief']['MR-full-mAP'] < 100  # > 10 GT windows
    # A val submission is refused against the test GT, naming the files.
    with pytest.raises(SubmissionError, match='missing from preds.jsonl'):
        evaluate_qvhighlights(perfect_submission(gt[:5]),
                              gt,
                              pred_name='preds.jsonl')


@pytest.mark.parametrize('seed', range(6))
def test_random_submissions_match_reference(random_case, seed):
    sub, gt = random_case(seed,
                          num_queries=80,
                          degenerate=seed % 2 == 1,
                          empty=seed % 3 == 2)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        ours = evaluate_qvhighlights(sub, gt)
        ref = reference_evaluate_qvhighlights(sub, gt)
    assert ours == ref and list(ours) == list(ref)
    for a, b in zip(ours.values(), ref.values()):
        assert list(a) == list(b)


def test_mr_only_and_hl_only_layouts(random_case):
    sub, gt = random_case(0, num_queries=30)
    mr_only = [{
        k: v
        for k, v in r.items() if k != 'pred_saliency_scores'
    } for r in sub]
    res = evaluate_qvhighlights(mr_only, gt)
    assert list(res) == ['brief', 'full', 'long', 'middle', 'short']
    assert list(res['brief']) == sorted(res['brief'])
    assert list(res['full']) == ['MR-mAP', 'MR-R1']
    assert list(res['full']['MR-mAP'])[-1] == 'average'
    hl_only = [{
        k: v
        for k, v in r.items() if k != 'pred_relevant_windows'
    } for r in sub]
    res = evaluate_qvhighlights(hl_only, gt)
    assert list(res) == [
        'brief', 'HL-min-Fair', 'HL-min-Good', 'HL-min-VeryGood'
    ]
    assert list(res['brief']) == [
        'HL-min-Fair-mAP', 'HL-min-Fair-Hit1', 'HL-min-Good-mAP',
        'HL-min-Good-Hit1', 'HL-min-VeryGood-mAP', 'HL-min-VeryGood-Hit1'
    ]


def _tiny_gt():
    return [
        dict(qid=1,
             query='a',
             vid='v1',
             duration=20,
             relevant_windows=[[0, 4]],
             relevant_clip_ids=[0, 1],
             saliency_scores=[[4, 4, 4], [1, 2, 3]]),
        dict(qid=2,
             query='b',
             vid='v2',
             duration=20,
             relevant_windows=[[2, 16]],
             relevant_clip_ids=[3],
             saliency_scores=[[2, 0, 0]]),
    ]


def _tiny_sub():
    return [
        dict(qid=1,
             query='a',
             vid='v1',
             pred_relevant_windows=[[0, 4, .9], [4, 8, .5]],
             pred_saliency_scores=[.9, .1, .2]),
        dict(qid=2,
             query='b',
             vid='v2',
             pred_relevant_windows=[[2, 12, .8]],
             pred_saliency_scores=[0., 0., 0., .5]),
    ]


def test_tiny_case_hand_computed():
    res = evaluate_qvhighlights(_tiny_sub(), _tiny_gt())
    # q1: TP then FP -> AP 1; q2: IoU 10/14 = 0.714 -> TP up to 0.7.
    assert res['full']['MR-mAP']['0.7'] == 100.
    assert res['full']['MR-mAP']['0.75'] == 50.
    # 10 thresholds x AP 1 (q1) + 5 thresholds (0.5..0.7) x AP 1 (q2).
    assert res['full']['MR-mAP']['average'] == 75.  # (10 + 5) / 20
    assert res['full']['MR-R1']['0.7'] == 100.
    assert res['full']['MR-R1']['0.75'] == 50.
    # Buckets: q1 is short (4 s), q2 middle (14 s), no long windows.
    assert res['short']['MR-mAP']['average'] == 100.
    assert res['middle']['MR-R1']['0.75'] == 0.
    assert 'long' not in res and 'MR-long-mAP' not in res['brief']
    # HL: q1 top clip 0 (scores 4,4,4), q2 top clip 3 (2,0,0).
    assert res['HL-min-Fair']['HL-Hit1'] == 100.
    assert res['HL-min-VeryGood']['HL-Hit1'] == 50.


def test_empty_bucket_modes():
    sub, gt = _tiny_sub(), _tiny_gt()
    zeros = evaluate_qvhighlights(sub, gt, empty_bucket='zeros')
    assert zeros['brief']['MR-long-mAP'] == 0.
    keys = list(zeros['long']['MR-mAP'])
    assert keys[:3] == ['0.5', '0.525', '0.55']
    assert '0.7749999999999999' in keys and keys[-1] == 'average'
    assert zeros['long']['MR-R1'] == zeros['long']['MR-mAP']
    full = evaluate_qvhighlights(sub, gt, empty_bucket='full')
    assert full['long'] == full['full']
    assert full['brief']['MR-long-mAP'] == full['brief']['MR-full-mAP']
    with pytest.raises(ValueError, match="unknown empty_bucket 'x'"):
        evaluate_qvhighlights(sub, gt, empty_bucket='x')
    with pytest.raises(ValueError, match="unknown variant 'x'"):
        evaluate_qvhighlights(sub, gt, variant='x')


def test_charades_variant_hand_computed():
    gt = [
        dict(qid=10,
             query='a',
             duration=30.5,
             vid='v',
             relevant_windows=[[1.5, 13.5]]),  # 12 s: middle
        dict(qid=11,
             query='b',
             duration=30.5,
             vid='v',
             relevant_windows=[[20., 24.]])
    ]  # 4 s: short
    sub = [
        dict(
            qid=10,
            query='a',
            vid='v',
            pred_relevant_windows=[[3.5, 13.5, .9]],  # IoU 10/12
            pred_saliency_scores=[1., 2.]),  # ignored
        dict(
            qid=11,
            query='b',
            vid='v',
            pred_relevant_windows=[[18., 24., .9]],  # IoU 4/6
            pred_saliency_scores=[0.])
    ]
    res = evaluate_qvhighlights(sub,
                                gt,
                                variant='charades_sta',
                                empty_bucket='zeros')
    assert list(res['brief']) == [
        'MR-full-R1@0.3', 'MR-full-R1@0.5', 'MR-full-R1@0.7', 'MR-full-mAP',
        'MR-full-mAP@0.5', 'MR-full-mAP@0.75', 'MR-full-mIoU', 'MR-long-mAP',
        'MR-middle-mAP', 'MR-short-mAP'
    ]
    assert list(res) == ['brief', 'full', 'long', 'middle', 'short']
    assert list(res['full']) == ['MR-mIoU', 'MR-mAP', 'MR-R1']
    assert res['brief']['MR-full-mIoU'] == 75.  # (10/12 + 4/6) / 2
    assert res['brief']['MR-full-R1@0.7'] == 50.
    assert res['brief']['MR-full-R1@0.3'] == 100.
    assert res['full']['MR-R1']['0.65'] == 100.
    assert list(res['full']['MR-R1'])[:2] == ['0.3', '0.35']
    assert res['short']['MR-mIoU'] == 66.67
    assert res['middle']['MR-mIoU'] == 83.33
    # mAP: q10 TP up to 0.8 (7 thresholds), q11 up to 0.65 (4).
    assert res['brief']['MR-full-mAP'] == 55.  # (7 + 4) / 20
    assert res['brief']['MR-long-mAP'] == 0.
    assert 'MR-mIoU' not in res['long']


def test_charades_real_gt_perfect(data_dir):
    gt = load_jsonl(
        osp.join(data_dir, 'charades_sta', 'charades_sta_test_tvr_format.'
                 'jsonl'))
    res = evaluate_qvhighlights(perfect_submission(gt),
                                gt,
                                variant='charades_sta',
                                empty_bucket='zeros')
    assert res['brief']['MR-full-mIoU'] == 100.
    assert res['brief']['MR-full-mAP'] == 100.
    assert res['brief']['MR-long-mAP'] == 0.  # no window > 30 s
    assert res['brief']['MR-short-mAP'] == 100.


@pytest.mark.parametrize('seed', range(3))
def test_charades_random_matches_reference(random_case, seed):
    sub, gt = random_case(seed, num_queries=60, charades=True)
    for mode in ('omit', 'zeros', 'full'):
        ours = evaluate_qvhighlights(sub,
                                     gt,
                                     variant='charades_sta',
                                     empty_bucket=mode)
        ref = reference_evaluate_qvhighlights(sub,
                                              gt,
                                              variant='charades_sta',
                                              empty_bucket=mode)
        assert ours == ref and list(ours) == list(ref)


def test_degenerate_windows_warn_once_or_raise():
    sub, gt = _tiny_sub(), _tiny_gt()
    sub[1]['pred_relevant_windows'] = [[16, 2, .9], [5, 5, .1], [2, 16, .05]]
    with pytest.warns(SubmissionWarning) as record:
        res = evaluate_qvhighlights(sub, gt)
    assert len(record) == 1
    assert ("2 predicted window(s) have end <= start (first: qid 2, "
            "[16.0, 2.0, 0.9])") in str(record[0].message)
    assert 'scored like the official evaluator' in str(record[0].message)
    # The reversed window [16, 2] has the GT's length (14 s): IoU 0/0 = NaN,
    # which the official code counts as a TP at every threshold -> AP 1.
    assert res['full']['MR-mAP']['0.95'] == 100.
    assert res['full']['MR-R1']['0.5'] == 50.  # first window: IoU 0
    with pytest.raises(SubmissionError, match=r'end <= start.*\[strict\]'):
        evaluate_qvhighlights(sub, gt, strict=True)


def test_empty_window_list_scores_zero_or_raises():
    sub, gt = _tiny_sub(), _tiny_gt()
    sub[1]['pred_relevant_windows'] = []
    with pytest.warns(SubmissionWarning,
                      match=r'1 record\(s\) have no predicted window '
                      r'\(first: qid 2\)'):
        res = evaluate_qvhighlights(sub, gt)
    # Counted as AP 0 and R1 0 (mean over both queries).
    assert res['full']['MR-mAP']['average'] == 50.
    assert res['full']['MR-R1']['0.5'] == 50.
    with pytest.raises(SubmissionError, match='no predicted window'):
        evaluate_qvhighlights(sub, gt, strict=True)


def _raises(sub, gt, match, **kwargs):
    with pytest.raises(SubmissionError, match=match) as e:
        evaluate_qvhighlights(sub, gt, pred_name='P', gt_name='G', **kwargs)
    assert '\n' not in str(e.value)


def test_submission_errors():
    gt = _tiny_gt()
    _raises([], gt, 'P: no prediction records')
    _raises(_tiny_sub()[:1], gt, r"1 qid\(s\) of G missing from P \(2\)")
    sub = _tiny_sub() + [dict(_tiny_sub()[0], qid=3)]
    _raises(sub, gt, r"1 qid\(s\) of P not in G \(3\)")
    sub = _tiny_sub()
    sub[1]['qid'] = '2'
    _raises(sub, gt, "qid types differ: P has '2' \\(str\\) where G has 2")
    _raises(_tiny_sub() + _tiny_sub()[:1], gt, r'P: 1 duplicate qid\(s\)')
    _raises(_tiny_sub(), gt + gt[:1], r'G: 1 duplicate qid\(s\)')
    sub = _tiny_sub()
    sub[0]['pred_relevant_windows'][1] = [4, 8]
    _raises(
        sub, gt, r'P: record 0 \(qid 1\): pred_relevant_windows\[1\] = '
        r'\[4, 8\] is not \[start, end, score\] numbers')
    sub = _tiny_sub()
    sub[0]['pred_relevant_windows'][0][0] = float('nan')
    _raises(sub, gt, r'pred_relevant_windows\[0\] .* is not finite')
    sub = _tiny_sub()
    sub[1]['pred_saliency_scores'] = [1., float('nan')]
    _raises(sub, gt, r'record 1 \(qid 2\): pred_saliency_scores\[1\]')
    sub = _tiny_sub()
    sub[1]['pred_saliency_scores'] = []
    _raises(sub, gt, "'pred_saliency_scores' must be a non-empty list")
    sub = _tiny_sub()
    del sub[1]['pred_saliency_scores']
    _raises(
        sub, gt, r"record 1 \(qid 2\) lacks 'pred_saliency_scores' but "
        'the first record has it')
    sub = _tiny_sub()
    del sub[0]['pred_relevant_windows']
    _raises(
        sub, gt, r"record 1 \(qid 2\) has 'pred_relevant_windows' but "
        'the first record lacks it')
    sub = [dict(qid=r['qid']) for r in _tiny_sub()]
    _raises(sub, gt, 'nothing to evaluate')


def test_ground_truth_errors():
    sub = _tiny_sub()
    gt = _tiny_gt()
    del gt[1]['relevant_windows']
    _raises(sub, gt, r"G: record 1 \(qid 2\): field 'relevant_windows' is "
            'missing')
    gt = _tiny_gt()
    gt[1]['relevant_windows'] = []
    _raises(sub, gt, 'relevant_windows is empty')
    gt = _tiny_gt()
    gt[1]['relevant_windows'] = [[16, 2]]
    _raises(sub, gt, 'a relevant window has end < start')
    gt = _tiny_gt()
    gt[0]['relevant_clip_ids'] = [0, 10]  # 20 s -> clips 0..9
    _raises(sub, gt, r'relevant_clip_ids must be ints in \[0, 10\)')
    gt = _tiny_gt()
    gt[0]['saliency_scores'] = [[4, 4, 4]]
    _raises(sub, gt, '1 saliency_scores rows for 2 relevant_clip_ids')
    gt = _tiny_gt()
    gt[0]['saliency_scores'][0] = [4, 4]
    _raises(sub, gt, r'saliency_scores\[0\] = \[4, 4\] is not 3 annotator')
    gt = _tiny_gt()
    gt[0]['duration'] = 1
    _raises(sub, gt, 'duration 1.0 gives no 2-s clip')
    # Saliency predictions against GT without saliency (e.g. Charades).
    gt = [{
        k: v
        for k, v in g.items() if k != 'saliency_scores'
    } for g in _tiny_gt()]
    _raises(
        sub, gt, "field 'saliency_scores' is missing \\(needed for the "
        'highlight metrics\\)')
    # ... which the Charades-STA variant ignores.
    res = evaluate_qvhighlights(sub, gt, variant='charades_sta')
    assert 'HL-min-Fair' not in res
