# Copyright (c) mmmrhd contributors. All rights reserved.
"""Optional oracle: the official moment_detr evaluator on generated
submissions of many shapes must give exactly our metrics JSON.

Runs only when both are available (skipped otherwise):

* ``MMMRHD_OFFICIAL_EVAL``: a jayleicn/moment_detr checkout, i.e. the folder
  holding ``standalone_eval/eval.py`` and ``standalone_eval/utils.py``
  (tested with commit b7e553ac3b0c898ee6b85e03ee507c064eab89ca);
* ``MMMRHD_OFFICIAL_EVAL_PYTHON``: a python with numpy and scikit-learn
  (default: the python running the tests).

All cases run in ONE subprocess that imports the official ``eval.py`` and
calls its ``eval_submission`` with its multiprocessing pools replaced by a
serial map (the only change: the pools' completion order makes the order of
the per-query AP rows, hence the last bit of their mean, nondeterministic).
One case also runs the unmodified official command line, pools included.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import warnings

import pytest
from oracle_cases import CASES, CRASH_CASES, make_case

from mmmrhd.evaluation.functional import (SubmissionError, SubmissionWarning,
                                          dump_jsonl, evaluate_qvhighlights,
                                          evaluate_qvhighlights_files,
                                          reference_evaluate_qvhighlights)

ROOT_ENV, PYTHON_ENV = 'MMMRHD_OFFICIAL_EVAL', 'MMMRHD_OFFICIAL_EVAL_PYTHON'

# Test code (ours): imports the official module and runs it per case.
DRIVER = r'''
import json
import sys

root, manifest, out = sys.argv[1:4]
sys.path.insert(0, root)
import standalone_eval.eval as official


class SerialPool:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, func, iterable, chunksize=1):
        return map(func, iterable)


official.mp.Pool = SerialPool
results = {}
with open(manifest) as f:
    cases = json.load(f)
for name, sub_path, gt_path in cases:
    try:
        res = official.eval_submission(official.load_jsonl(sub_path),
                                       official.load_jsonl(gt_path),
                                       verbose=False)
        results[name] = json.dumps(res, indent=4)
    except Exception as e:  # the official code crashes on some shapes
        results[name] = 'error: ' + type(e).__name__
with open(out, 'w') as f:
    json.dump(results, f)
'''


def _official_root():
    root = os.environ.get(ROOT_ENV)
    if not root:
        pytest.skip(f'official evaluator not configured (set {ROOT_ENV})')
    if osp.isfile(osp.join(root, 'eval.py')) and not osp.isdir(
            osp.join(root, 'standalone_eval')):
        root = osp.dirname(osp.abspath(root))  # the standalone_eval folder
    if not osp.isfile(osp.join(root, 'standalone_eval', 'eval.py')):
        pytest.skip(f'{ROOT_ENV}={root} has no standalone_eval/eval.py')
    return root


def _official_python():
    python = os.environ.get(PYTHON_ENV, sys.executable)
    proc = subprocess.run([python, '-c', 'import numpy, sklearn'],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f'{python} cannot import numpy + scikit-learn (set '
                    f'{PYTHON_ENV})')
    return python


def _all_cases():
    names = list(CASES) + list(CRASH_CASES)
    for seed, name in enumerate(names):
        opts = CASES[name] if name in CASES else CRASH_CASES[name][0]
        yield name, make_case(seed, **opts)


@pytest.fixture(scope='module')
def oracle(tmp_path_factory):
    root, python = _official_root(), _official_python()
    work = tmp_path_factory.mktemp('oracle')
    manifest, paths = [], {}
    for name, (sub, gt) in _all_cases():
        sub_path = work / f'{name}_sub.jsonl'
        gt_path = work / f'{name}_gt.jsonl'
        dump_jsonl(sub, str(sub_path))
        dump_jsonl(gt, str(gt_path))
        manifest.append([name, str(sub_path), str(gt_path)])
        paths[name] = (str(sub_path), str(gt_path), sub, gt)
    (work / 'manifest.json').write_text(json.dumps(manifest))
    (work / 'driver.py').write_text(DRIVER)
    proc = subprocess.run([
        python,
        str(work / 'driver.py'), root,
        str(work / 'manifest.json'),
        str(work / 'results.json')
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((work / 'results.json').read_text())
    return dict(root=root, python=python, work=work, paths=paths,
                results=results)


def _ours(sub_path, gt_path, sub, gt):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        from_records = evaluate_qvhighlights(sub, gt)
        from_files = evaluate_qvhighlights_files(sub_path, gt_path)
        reference = reference_evaluate_qvhighlights(sub, gt)
    return from_records, from_files, reference


@pytest.mark.parametrize('name', list(CASES))
def test_every_metric_equals_official(oracle, name):
    expected = oracle['results'][name]
    assert not expected.startswith('error'), expected
    records, files, reference = _ours(*oracle['paths'][name])
    # Keys, key order, every value and the formatting.
    assert json.dumps(records, indent=4) == expected
    assert json.dumps(files, indent=4) == expected
    assert json.dumps(reference, indent=4) == expected


def test_official_crash_shapes(oracle):
    for name, (_, error) in CRASH_CASES.items():
        assert oracle['results'][name] == f'error: {error}', name
    sub_path, gt_path, sub, gt = oracle['paths']['empty_prediction_lists']
    # The official evaluator crashes (IndexError in compute_mr_r1); we
    # score those queries 0 and warn.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        evaluate_qvhighlights_files(sub_path, gt_path)
    assert any('have no predicted window' in str(w.message) for w in caught)
    sub_path, gt_path, _, _ = oracle['paths']['missing_qid']
    with pytest.raises(SubmissionError, match=r'1 qid\(s\) of .* missing'):
        evaluate_qvhighlights_files(sub_path, gt_path)
    # An empty length bucket: official TypeError; we omit the bucket.
    sub_path, gt_path, _, _ = oracle['paths']['empty_long_bucket']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        res = evaluate_qvhighlights_files(sub_path, gt_path)
    assert 'long' not in res and 'MR-long-mAP' not in res['brief']


def test_unmodified_official_cli(oracle, tmp_path):
    """The official command line, multiprocessing pools included."""
    sub_path, gt_path, _, _ = oracle['paths']['int_ties_reversed']
    out = tmp_path / 'official.json'
    env = dict(os.environ, PYTHONPATH=oracle['root'])
    proc = subprocess.run([
        oracle['python'],
        osp.join(oracle['root'], 'standalone_eval', 'eval.py'),
        '--submission_path', sub_path, '--gt_path', gt_path, '--save_path',
        str(out), '--not_verbose'
    ],
                          cwd=oracle['root'],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', SubmissionWarning)
        ours = evaluate_qvhighlights_files(sub_path, gt_path)
    assert json.dumps(ours, indent=4) == out.read_text()
