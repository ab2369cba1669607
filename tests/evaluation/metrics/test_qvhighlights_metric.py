# Copyright (c) mmmrhd contributors. All rights reserved.
"""QVHighlightsMetric / CharadesSTAMetric through process + evaluate."""
import json
import os.path as osp
import re

import pytest
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from mmmrhd.evaluation import (CharadesSTAMetric, QVHighlightsMetric,
                               SubmissionError)
from mmmrhd.evaluation.functional import load_jsonl
from mmmrhd.registry import METRICS
from mmmrhd.utils.setup_env import register_all_modules


@pytest.fixture(scope='module')
def val_files(qvh_dir):
    gt_file = osp.join(qvh_dir, 'highlight_val_release.jsonl')
    pred_file = osp.join(qvh_dir, 'eval_sample', 'sample_val_preds.jsonl')
    metrics_file = osp.join(qvh_dir, 'eval_sample',
                            'sample_val_preds_metrics_raw.json')
    return gt_file, pred_file, metrics_file


def model_predictions(pred_file, gt_file, with_ann=True):
    """The sample submission as the model would return it (data
    contract): plus ``duration`` and the raw ``ann`` record."""
    gt = {g['qid']: g for g in load_jsonl(gt_file)}
    preds = []
    for record in load_jsonl(pred_file):
        pred = dict(record, duration=float(gt[record['qid']]['duration']))
        if with_ann:
            pred['ann'] = gt[record['qid']]
        preds.append(pred)
    return preds


def run(metric, preds, batch_size=100):
    for i in range(0, len(preds), batch_size):
        metric.process(None, preds[i:i + batch_size])
    return metric.evaluate(len(preds))


def test_registered_and_built_from_config():
    register_all_modules()
    metric = METRICS.build(dict(type='QVHighlightsMetric'))
    assert isinstance(metric, QVHighlightsMetric)
    assert metric.prefix == '' and metric.empty_bucket == 'omit'
    charades = METRICS.build(dict(type='CharadesSTAMetric'))
    assert isinstance(charades, CharadesSTAMetric)
    assert charades.empty_bucket == 'zeros'
    with pytest.raises(ValueError, match='unknown empty_bucket'):
        QVHighlightsMetric(empty_bucket='nope')
    with pytest.raises(ValueError, match='dump_file must be a .jsonl'):
        QVHighlightsMetric(dump_file='x.json')


def test_official_sample_through_metric(val_files, tmp_path):
    gt_file, pred_file, metrics_file = val_files
    with open(metrics_file) as f:
        expected = json.load(f)
    logger = MMLogger.get_instance('h1_metric_test',
                                   log_file=str(tmp_path / 'log.txt'))
    dump = tmp_path / 'out' / 'hl_val_submission.jsonl'
    metric = QVHighlightsMetric(dump_file=str(dump))
    metrics = run(metric, model_predictions(pred_file, gt_file))
    assert metrics == expected['brief']
    assert list(metrics) == list(expected['brief'])
    assert json.loads(json.dumps(metric.last_results)) == expected
    assert metric.results == []  # cleared by evaluate
    # The dump is the official submission, byte for byte per line.
    with open(pred_file) as f:
        original = f.read().splitlines()
    assert dump.read_text().splitlines() == original
    # The brief table went to the current logger.
    for handler in logger.handlers:
        handler.flush()
    log = (tmp_path / 'log.txt').read_text()
    # fixed 2 decimals (official percentages): 32.2 -> 32.20
    assert re.search(r'\| MR-full-mAP +\| 32\.20 \|', log)
    rows = re.findall(r'^\| (\S+) +\| +(\S+) \|$', log, re.M)[1:]
    assert len(rows) == len(expected['brief'])
    assert all(re.fullmatch(r'\d+\.\d\d', v) for _, v in rows)
    assert {k: float(v) for k, v in rows} == expected['brief']


def test_ann_file_mode_and_prefix(val_files):
    gt_file, pred_file, metrics_file = val_files
    with open(metrics_file) as f:
        expected = json.load(f)['brief']
    preds = model_predictions(pred_file, gt_file, with_ann=False)
    metric = QVHighlightsMetric(ann_file=gt_file, prefix='val')
    metrics = run(metric, preds)
    assert metrics == {f'val/{k}': v for k, v in expected.items()}
    # A subset of the GT is refused, naming the ann file.
    metric = QVHighlightsMetric(ann_file=gt_file)
    with pytest.raises(SubmissionError,
                       match=r"1450 qid\(s\) of .*highlight_val_release."
                       r'jsonl missing from predictions'):
        run(metric, preds[:100])
    metric = QVHighlightsMetric(ann_file=gt_file + '.missing.jsonl')
    with pytest.raises(FileNotFoundError, match='missing.jsonl'):
        run(metric, preds[:10])


def test_metric_errors(val_files):
    gt_file, pred_file, _ = val_files
    preds = model_predictions(pred_file, gt_file, with_ann=False)[:5]
    with pytest.raises(SubmissionError, match='has no "ann"'):
        run(QVHighlightsMetric(), preds)
    with pytest.raises(TypeError, match='expects prediction dicts'):
        QVHighlightsMetric().process(None, [[1, 2]])
    bad = model_predictions(pred_file, gt_file)[:5]
    bad[2]['pred_relevant_windows'] = [[1, 2]]
    with pytest.raises(SubmissionError, match=r'predictions: record 2'):
        run(QVHighlightsMetric(), bad)


def test_evaluator_with_dump_submission(val_files, tmp_path):
    gt_file, pred_file, metrics_file = val_files
    register_all_modules()
    out = tmp_path / 'dump.jsonl'
    evaluator = Evaluator([
        dict(type='QVHighlightsMetric'),
        dict(type='DumpSubmission', out_file=str(out))
    ])
    preds = model_predictions(pred_file, gt_file)
    metrics = evaluator.offline_evaluate(preds, chunk_size=256)
    with open(metrics_file) as f:
        assert metrics == json.load(f)['brief']
    assert len(out.read_text().splitlines()) == len(preds)


def test_charades_metric(data_dir):
    gt = load_jsonl(
        osp.join(data_dir, 'charades_sta', 'charades_sta_test_tvr_format.'
                 'jsonl'))[:300]
    preds = [
        dict(
            qid=g['qid'],
            query=g['query'],
            vid=g['vid'],
            duration=g['duration'],
            pred_relevant_windows=[[*g['relevant_windows'][0], 1.]],
            pred_saliency_scores=[0.1, 0.2],  # ignored
            ann=g) for g in gt
    ]
    metrics = run(CharadesSTAMetric(), preds)
    assert list(metrics) == [
        'MR-full-R1@0.3', 'MR-full-R1@0.5', 'MR-full-R1@0.7', 'MR-full-mAP',
        'MR-full-mAP@0.5', 'MR-full-mAP@0.75', 'MR-full-mIoU', 'MR-long-mAP',
        'MR-middle-mAP', 'MR-short-mAP'
    ]
    assert metrics['MR-full-mIoU'] == 100. and metrics['MR-long-mAP'] == 0.
    metrics = run(CharadesSTAMetric(empty_bucket='omit'), preds)
    assert 'MR-long-mAP' not in metrics


# dpaul06/VideoLights @ 76308bb0 on the shared sample submission: the brief
# of its standalone_eval/eval.py eval_submission and its train.py
# calculate_stop_score(brief) with dset_name 'hl' (run once with the official
# code; the QVHighlights keys equal sample_val_preds_metrics_raw.json).
VIDEOLIGHTS_EXTRA = {
    'MR-full-R1@0.3': 67.48,
    'MR-full-mIoU': 49.21,
}
VIDEOLIGHTS_STOP_SCORE = 39.8832
VIDEOLIGHTS_HL_WEIGHTS = {
    'MR-full-R1@0.3': 0.3,
    'MR-full-R1@0.5': 0.5,
    'MR-full-R1@0.7': 0.7,
    'MR-full-mAP@0.5': 0.5,
    'MR-full-mAP@0.75': 0.75,
    'MR-full-mAP': 0.25,
    'MR-long-mAP': 0.25,
    'MR-middle-mAP': 0.25,
    'MR-short-mAP': 0.25,
}


def test_videolights_variant_and_composite_score(val_files):
    gt_file, pred_file, metrics_file = val_files
    with open(metrics_file) as f:
        expected = json.load(f)['brief']
    expected.update(VIDEOLIGHTS_EXTRA)
    register_all_modules()
    metric = METRICS.build(
        dict(type='QVHighlightsMetric',
             variant='videolights',
             composite_scores={
                 'stop_score': dict(weights=VIDEOLIGHTS_HL_WEIGHTS)
             }))
    metrics = run(metric, model_predictions(pred_file, gt_file))
    score = metrics.pop('stop_score')
    assert metrics == expected
    # Official brief order: MR keys sorted, then HL; the score comes last.
    assert list(metrics)[:3] == [
        'MR-full-R1@0.3', 'MR-full-R1@0.5', 'MR-full-R1@0.7'
    ]
    assert score == VIDEOLIGHTS_STOP_SCORE
    # Hand check: sum(metric * weight) / sum(weights) (= 3.75).
    hand = sum(metrics[k] * w for k, w in VIDEOLIGHTS_HL_WEIGHTS.items())
    assert score == pytest.approx(hand / 3.75, abs=1e-9)
    # The MR-R1 section has the VideoLights thresholds 0.3 ... 0.95.
    assert list(metric.last_results['full']['MR-R1'])[:2] == ['0.3', '0.35']


def test_composite_score_errors(val_files):
    gt_file, pred_file, _ = val_files
    preds = model_predictions(pred_file, gt_file)
    # The moment_detr protocol has no R1@0.3: named, not silently 0.
    metric = QVHighlightsMetric(
        composite_scores={'s': dict(weights=VIDEOLIGHTS_HL_WEIGHTS)})
    with pytest.raises(ValueError,
                       match=r"QVHighlightsMetric: composite score 's': "
                       r"metrics \['MR-full-R1@0.3'\] are not in"):
        run(metric, preds)
    metric = QVHighlightsMetric(
        composite_scores={'MR-full-mAP': dict(weights={'MR-full-R1@0.5': 1})})
    with pytest.raises(ValueError, match="'MR-full-mAP' clashes"):
        run(metric, preds)
    with pytest.raises(ValueError, match="unknown variant 'vl'"):
        QVHighlightsMetric(variant='vl')
    with pytest.raises(ValueError, match='must be a dict with "weights"'):
        QVHighlightsMetric(composite_scores={'s': [1]})
