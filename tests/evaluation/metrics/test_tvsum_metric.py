# Copyright (c) mmmrhd contributors. All rights reserved.
"""TVSumMetric through process + evaluate."""
import os.path as osp

import numpy as np
import pytest

from mmmrhd.evaluation import SubmissionError, TVSumMetric, evaluate_tvsum
from mmmrhd.evaluation.functional import load_jsonl


@pytest.fixture(scope='module')
def tvsum_val_file(data_dir):
    return osp.join(data_dir, 'tvsum', 'tvsum_val.jsonl')


def _preds(records, with_ann=True, seed=0):
    rng = np.random.default_rng(seed)
    preds = []
    for r in records:
        pred = dict(qid=r['qid'],
                    query=r['query'],
                    vid=r['vid'],
                    duration=r['duration'],
                    pred_saliency_scores=rng.random(len(r['label'])).tolist())
        if with_ann:
            pred['ann'] = r
        preds.append(pred)
    return preds


def test_tvsum_metric_from_ann_and_ann_file(tvsum_val_file, tmp_path):
    records = load_jsonl(tvsum_val_file)
    preds = _preds(records)
    metric = TVSumMetric(dump_file=str(tmp_path / 'tvsum.jsonl'))
    metric.process(None, preds[:4])
    metric.process(None, preds[4:])
    metrics = metric.evaluate(len(preds))
    submission = [{
        k: p[k]
        for k in ('qid', 'query', 'vid', 'pred_saliency_scores')
    } for p in preds]
    assert metrics == dict(evaluate_tvsum(submission, records)['brief'])
    assert list(metrics)[-1] == 'mAP' and len(metrics) == 11
    assert len((tmp_path / 'tvsum.jsonl').read_text().splitlines()) == 10
    # One domain (the official per-domain protocol) from the GT file.
    metric = TVSumMetric(ann_file=tvsum_val_file)
    one = _preds(records[:1], with_ann=False)
    metric.process(None, one)
    domain = records[0]['domain']
    assert list(metric.evaluate(1)) == [f'{domain}-mAP', 'mAP']


def test_tvsum_metric_errors(tvsum_val_file):
    records = load_jsonl(tvsum_val_file)
    metric = TVSumMetric()
    metric.process(None, _preds(records[:2], with_ann=False))
    with pytest.raises(SubmissionError, match='has no "ann"'):
        metric.evaluate(2)
    metric = TVSumMetric(strict=True)
    preds = _preds(records[:1])
    preds[0]['pred_saliency_scores'] = preds[0]['pred_saliency_scores'][:3]
    metric.process(None, preds)
    with pytest.raises(SubmissionError, match='fewer saliency scores'):
        metric.evaluate(1)


def test_tvsum_metric_composite_score(tvsum_val_file):
    records = load_jsonl(tvsum_val_file)
    preds = _preds(records)
    metric = TVSumMetric()
    metric.process(None, preds)
    plain = metric.evaluate(len(preds))
    domains = [k for k in plain if k != 'mAP'][:2]
    metric = TVSumMetric(composite_scores={
        'two': dict(weights={domains[0]: 1, domains[1]: 3}, normalize=False)
    })
    metric.process(None, preds)
    metrics = metric.evaluate(len(preds))
    assert list(metrics)[-1] == 'two'
    assert metrics.pop('two') == pytest.approx(
        plain[domains[0]] + 3 * plain[domains[1]], abs=1e-12)
    assert metrics == plain
