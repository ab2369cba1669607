# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/eval_preds.py and benchmark_metric.py: two end-to-end subprocess
runs, the other cases through ``main(argv)`` in-process (fast)."""
import importlib.util
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
from random_cases import make_random_case

from mmmrhd.evaluation.functional import (SubmissionError, dump_jsonl,
                                          load_jsonl)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EVAL = osp.join(REPO, 'tools', 'eval_preds.py')
BENCH = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_metric.py')


def _load_tool(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


eval_preds = _load_tool(EVAL, 'eval_preds_tool')
benchmark_metric = _load_tool(BENCH, 'benchmark_metric_tool')


def run_subprocess(*args):
    return subprocess.run([sys.executable, *map(str, args)],
                          capture_output=True,
                          text=True,
                          cwd=REPO,
                          timeout=120)


def run_main(capsys, *args):
    rc = eval_preds.main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_subprocess_official_json_and_bad_submission(qvh_dir, tmp_path):
    gt = osp.join(qvh_dir, 'highlight_val_release.jsonl')
    out = tmp_path / 'metrics.json'
    proc = run_subprocess(
        EVAL, osp.join(qvh_dir, 'eval_sample', 'sample_val_preds.jsonl'), gt,
        '--out', out)
    assert proc.returncode == 0, proc.stderr
    with open(
            osp.join(qvh_dir, 'eval_sample',
                     'sample_val_preds_metrics_raw.json')) as f:
        assert out.read_text() == f.read()  # byte-identical JSON
    # fixed 2 decimals, as the official percentages
    assert re.search(r'\| MR-full-mAP +\| 32\.20 \|', proc.stdout)
    assert re.search(r'\| MR-long-mAP +\| +\d+\.\d\d \|', proc.stdout)
    assert proc.stderr == ''
    sub = load_jsonl(osp.join(qvh_dir, 'eval_sample', 'ckpt_val_preds.jsonl'))
    pred = tmp_path / 'preds.jsonl'
    dump_jsonl(sub[:-2], str(pred))
    proc = run_subprocess(EVAL, pred, gt)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: 2 qid(s) of ')
    assert proc.stdout == ''


def test_cli_missing_file_and_usage(capsys, tmp_path):
    rc, out, err = run_main(capsys, tmp_path / 'nope.jsonl',
                            tmp_path / 'gt.jsonl')
    assert rc == 2 and err.startswith('error: jsonl file not found')
    with pytest.raises(SystemExit) as e:
        eval_preds.main(['a', 'b', '--dataset', 'nope'])
    assert e.value.code == 2  # argparse usage error
    with pytest.raises(SystemExit) as e:
        eval_preds.main(['--help'])
    assert e.value.code == 0 and 'usage:' in capsys.readouterr().out


def test_cli_warnings_and_strict(capsys, tmp_path):
    sub, gt = make_random_case(1, num_queries=40, degenerate=True)
    pred, gt_file = tmp_path / 'p.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(pred))
    dump_jsonl(gt, str(gt_file))
    rc, out, err = run_main(capsys, pred, gt_file)
    assert rc == 0 and '| MR-full-mAP ' in out
    warnings = err.splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith('warning: ') and 'end <= start' in (
        warnings[0])
    rc, out, err = run_main(capsys, pred, gt_file, '--strict')
    assert rc == 2 and '[strict]' in err and out == ''


def test_cli_released_test_gt(capsys, qvh_dir, tmp_path):
    gt_file = osp.join(qvh_dir, 'highlight_test_with_gt.jsonl')
    gt = load_jsonl(gt_file)
    sub = [
        dict(qid=g['qid'],
             query=g['query'],
             vid=g['vid'],
             pred_relevant_windows=[[*g['relevant_windows'][0], 1.]],
             pred_saliency_scores=[0.] * int(g['duration'] / 2)) for g in gt
    ]
    pred = tmp_path / 'hl_test_submission.jsonl'
    dump_jsonl(sub, str(pred))
    out = tmp_path / 'test_metrics.json'
    rc, _, err = run_main(capsys, pred, gt_file, '--out', out)
    assert rc == 0, err
    res = json.loads(out.read_text())
    assert res['brief']['MR-full-R1@0.7'] == 100.
    assert list(res)[1:] == [
        'HL-min-Fair', 'HL-min-Good', 'HL-min-VeryGood', 'full', 'long',
        'middle', 'short'
    ]


def test_cli_charades(capsys, data_dir, tmp_path):
    gt = load_jsonl(
        osp.join(data_dir, 'charades_sta',
                 'charades_sta_test_tvr_format.jsonl'))[:50]
    gt_file, pred = tmp_path / 'cg.jsonl', tmp_path / 'cp.jsonl'
    dump_jsonl(gt, str(gt_file))
    dump_jsonl([
        dict(qid=g['qid'],
             query=g['query'],
             vid=g['vid'],
             pred_relevant_windows=[[*g['relevant_windows'][0], 1.]],
             pred_saliency_scores=[1.]) for g in gt
    ], str(pred))
    out = tmp_path / 'cm.json'
    rc, _, err = run_main(capsys, pred, gt_file, '--dataset', 'charades_sta',
                          '--out', out)
    assert rc == 0
    assert err.startswith('note: pred_saliency_scores are ignored')
    res = json.loads(out.read_text())
    assert res['brief']['MR-full-mIoU'] == 100.
    assert res['brief']['MR-long-mAP'] == 0.  # CG-DETR zeros by default
    rc, _, _ = run_main(capsys, pred, gt_file, '--dataset', 'charades_sta',
                        '--out', out, '--empty-bucket', 'omit')
    assert rc == 0 and 'long' not in json.loads(out.read_text())


def test_cli_videolights(capsys, qvh_dir, tmp_path):
    # dpaul06/VideoLights standalone_eval/eval.py on the sample submission
    # (run once with the official code): the QVHighlights brief plus these.
    gt = osp.join(qvh_dir, 'highlight_val_release.jsonl')
    pred = osp.join(qvh_dir, 'eval_sample', 'sample_val_preds.jsonl')
    out = tmp_path / 'vl.json'
    rc, stdout, _ = run_main(capsys, pred, gt, '--dataset', 'videolights',
                             '--out', out)
    assert rc == 0 and '| MR-full-R1@0.3 ' in stdout
    brief = json.loads(out.read_text())['brief']
    assert brief['MR-full-R1@0.3'] == 67.48
    assert brief['MR-full-mIoU'] == 49.21
    with open(
            osp.join(qvh_dir, 'eval_sample',
                     'sample_val_preds_metrics_raw.json')) as f:
        qvh = json.load(f)['brief']
    assert {k: brief[k] for k in qvh} == qvh


def test_cli_tvsum(capsys, data_dir, tmp_path):
    tv_gt = osp.join(data_dir, 'tvsum', 'tvsum_val.jsonl')
    tv_pred = tmp_path / 'tv.jsonl'
    dump_jsonl([
        dict(qid=r['qid'],
             vid=r['vid'],
             pred_saliency_scores=np.mean(r['label'], 1).tolist())
        for r in load_jsonl(tv_gt)
    ], str(tv_pred))
    out = tmp_path / 'tv.json'
    rc, stdout, err = run_main(capsys, tv_pred, tv_gt, '--dataset', 'tvsum',
                               '--out', out)
    assert rc == 0, err
    brief = json.loads(out.read_text())['brief']
    assert list(brief)[-1] == 'mAP' and len(brief) == 11
    # fractions with the official 5 decimals
    rows = dict(re.findall(r'^\| (\S+) +\| +(\S+) \|$', stdout, re.M))
    assert rows.pop('metric') == 'value'
    assert {k: float(v) for k, v in rows.items()} == brief
    assert all(re.fullmatch(r'\d\.\d{5}', v) for v in rows.values())


def test_benchmark_tool(capsys, tmp_path):
    sub, gt = make_random_case(2, num_queries=30)
    pred, gt_file = tmp_path / 'p.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(pred))
    dump_jsonl(gt, str(gt_file))
    benchmark_metric.main([
        '--gt',
        str(gt_file), '--pred',
        str(pred), '--repeat', '1', '--records', '300', '--official-root',
        ''
    ])
    out = capsys.readouterr().out
    assert 'ours     tools/eval_preds.py: median ' in out
    assert 'official evaluator: not run' in out
    assert 'ours on 300 records: ' in out and 'peak memory (maxrss)' in out


def test_cli_does_not_import_torch_or_mmengine(tmp_path):
    sub, gt = make_random_case(3, num_queries=5)
    pred, gt_file = tmp_path / 'p.jsonl', tmp_path / 'g.jsonl'
    dump_jsonl(sub, str(pred))
    dump_jsonl(gt, str(gt_file))
    code = ('import runpy, sys; sys.argv = [sys.argv[1], *sys.argv[2:]]\n'
            'try:\n    runpy.run_path(sys.argv[0], run_name="__main__")\n'
            'except SystemExit:\n    pass\n'
            'heavy = sorted(m for m in sys.modules if m.split(".")[0] in '
            '("torch", "mmengine", "mmcv"))\n'
            'print("HEAVY", heavy, "mmmrhd" in sys.modules)')
    proc = run_subprocess('-c', code, EVAL, pred, gt_file)
    assert proc.returncode == 0, proc.stderr
    # No heavy import, and the stand-in parent packages were removed.
    assert 'HEAVY [] False' in proc.stdout


def test_cli_errors_name_file_and_line_and_exit_2(capsys, tmp_path):
    sub, gt = make_random_case(4, num_queries=6)
    gt_file = tmp_path / 'g.jsonl'
    dump_jsonl(gt, str(gt_file))
    pred = tmp_path / 'p.jsonl'
    sub[2]['pred_relevant_windows'][0] = [1, 'x', 0.5]
    dump_jsonl(sub, str(pred))
    rc, out, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and out == ''
    assert err == (f'error: {pred}: line 3 (qid {sub[2]["qid"]}): '
                   "pred_relevant_windows[0] = [1, 'x', 0.5] is not [start, "
                   'end, score] numbers\n')
    # Bad JSON, non-UTF-8 bytes, duplicate qids, bad GT field.
    pred.write_text('{"qid": 1, "pred_relevant_windows": []}\n{oops\n')
    rc, _, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and err.startswith(f'error: {pred}: line 2 is not valid')
    pred.write_bytes(b'{"qid": 1, "pred_relevant_windows": []}\n\xff\xfe\n')
    rc, _, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and f'{pred}: line 2 is not UTF-8' in err
    dump_jsonl(sub[:1] + sub, str(pred))
    rc, _, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and (f'{pred}: line 2 (qid {sub[0]["qid"]}): duplicate '
                        f'qid {sub[0]["qid"]} (also on line 1)') in err
    gt[4]['relevant_windows'] = [[8, 2]]
    dump_jsonl(gt, str(gt_file))
    dump_jsonl(make_random_case(4, num_queries=6)[0], str(pred))
    rc, _, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and (f'error: {gt_file}: line 5 (qid {gt[4]["qid"]}): a '
                        'relevant window has end < start') in err
    assert len(err.splitlines()) == 1
    # --debug (or MMMRHD_DEBUG=1) shows the traceback instead.
    with pytest.raises(SubmissionError, match='end < start'):
        eval_preds.main([str(pred), str(gt_file), '--debug'])


def test_cli_unknown_and_missing_qids(capsys, tmp_path):
    sub, gt = make_random_case(5, num_queries=6)
    gt_file, pred = tmp_path / 'g.jsonl', tmp_path / 'p.jsonl'
    dump_jsonl(gt, str(gt_file))
    sub[0] = dict(sub[0], qid=str(sub[0]['qid']))
    dump_jsonl(sub[:-1], str(pred))
    rc, _, err = run_main(capsys, pred, gt_file)
    assert rc == 2 and len(err.splitlines()) == 1
    assert 'qid(s) of ' in err and 'missing from' in err
    assert 'qid types differ' in err
