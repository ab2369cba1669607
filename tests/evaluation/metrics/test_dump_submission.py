# Copyright (c) mmmrhd contributors. All rights reserved.
"""DumpSubmission: writes the official submission jsonl, no metrics."""
import json

import pytest

from mmmrhd.evaluation import DumpSubmission
from mmmrhd.registry import METRICS
from mmmrhd.utils.setup_env import register_all_modules


def test_dump_submission_without_ground_truth(tmp_path):
    register_all_modules()
    out = tmp_path / 'work' / 'hl_test_submission.jsonl'
    metric = METRICS.build(dict(type='DumpSubmission', out_file=str(out)))
    assert isinstance(metric, DumpSubmission)
    preds = [
        dict(qid=i,
             query=f'q{i}',
             vid=f'v{i}',
             duration=150.,
             pred_relevant_windows=[[0., 2., .5]],
             pred_saliency_scores=[.1, .2],
             ann=dict(qid=i, query=f'q{i}', duration=150, vid=f'v{i}'))
        for i in range(5)
    ]
    metric.process(None, preds[:3])
    metric.process(None, preds[3:])
    assert metric.evaluate(5) == {}
    lines = out.read_text().splitlines()
    assert [json.loads(x) for x in lines] == [
        dict(qid=i,
             query=f'q{i}',
             vid=f'v{i}',
             pred_relevant_windows=[[0., 2., .5]],
             pred_saliency_scores=[.1, .2]) for i in range(5)
    ]
    assert list(json.loads(lines[0])) == [
        'qid', 'query', 'vid', 'pred_relevant_windows', 'pred_saliency_scores'
    ]


def test_dump_submission_errors(tmp_path):
    with pytest.raises(ValueError, match='out_file must be a .jsonl'):
        DumpSubmission(out_file=str(tmp_path / 'x.pkl'))
    metric = DumpSubmission(out_file=str(tmp_path / 'x.jsonl'))
    with pytest.raises(ValueError, match="qid 3 has no 'vid'"):
        metric.process(None, [dict(qid=3, query='q')])
