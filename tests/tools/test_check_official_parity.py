# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/analysis_tools/check_official_parity.py end to end."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmmrhd.testing import load_fixture
from mmmrhd.testing.parity import _compare

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'check_official_parity.py')


def _main():
    import importlib.util
    spec = importlib.util.spec_from_file_location('check_parity', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_cli_passes_on_official_fixture(fixtures_dir, tmp_path):
    out = tmp_path / 'rows.json'
    proc = subprocess.run(
        [sys.executable, TOOL,
         osp.join(fixtures_dir, 'taskweave_hd2mr_epoch150.pth'), '--json',
         str(out)],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '-> PASS' in proc.stdout and 'all within tolerance' in proc.stdout
    for category in ('outputs', 'losses', 'matcher', 'total', 'grads'):
        assert f'| {category}' in proc.stdout
    assert out.exists()


@pytest.mark.parametrize('name', ['qddetr.pth', 'momentdetr.pth'])
def test_cli_picks_other_models_from_meta(name, fixtures_dir, capsys):
    assert _main()([osp.join(fixtures_dir, name)]) == 0
    out = capsys.readouterr().out
    assert f'{name}: ' in out and '-> PASS' in out


def test_cli_fails_on_perturbed_outputs(fixtures_dir, tmp_path, capsys):
    fx = load_fixture(osp.join(fixtures_dir, 'taskweave_hd2mr_epoch50.pth'))
    fx['outputs']['pred_spans'] = fx['outputs']['pred_spans'] + 1e-3
    fx['grads_full']['class_embed.weight'][0, 0] += 1.0  # > 1e-5 * 1.1e4
    path = tmp_path / 'perturbed.pth'
    torch.save(fx, path)
    assert _main()([str(path)]) == 1
    text = capsys.readouterr().out
    assert 'FAIL' in text and 'OUT OF TOLERANCE' in text
    assert 'BAD outputs  pred_spans' in text
    assert 'BAD grads    class_embed.weight' in text


def test_cli_bad_input(fixtures_dir, tmp_path, capsys):
    assert _main()([str(tmp_path / 'missing.pth')]) == 2
    fx = load_fixture(osp.join(fixtures_dir, 'qddetr.pth'))
    fx['meta']['repo'] = 'someone/UnportedDETR'
    path = tmp_path / 'unported.pth'
    torch.save(fx, path)
    assert _main()([str(path)]) == 2
    err = capsys.readouterr().err
    assert 'no such file' in err
    assert ("no mmmrhd parity check for fixtures of 'someone/UnportedDETR'"
            in err)
    assert "'EdenGabriel/TaskWeave'" in err  # lists the supported repos


def test_compare_budget_and_shapes():
    row = _compare('x', 'a', torch.tensor([1.0, 2.0]),
                   torch.tensor([1.0, 2.0002]), atol=1e-5, rtol=1e-4)
    # |diff| 2e-4 vs budget 1e-5 + 1e-4 * 2.0002 -> 0.95
    assert row.ok and row.budget == pytest.approx(2e-4 / 2.10002e-4, 1e-3)
    bad = _compare('x', 'a', torch.zeros(2), torch.zeros(3), 1e-5, 1e-4)
    assert not bad.ok and 'shape' in bad.note
    nan = _compare('x', 'a', torch.tensor([float('nan')]), torch.tensor([1.0]),
                   1e-5, 1e-4)
    assert not nan.ok
