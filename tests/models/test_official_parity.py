# Copyright (c) mmmrhd contributors. All rights reserved.
"""Official parity of every ported model through its parity adapter.

For each shared fixture: the adapter is picked from ``fx['meta']``, the
portable-init weights are rebuilt and hashed, converted with the model's
repository converter and strictly loaded in official-compat mode; the
forward outputs, our criteria on the official outputs, the matcher indices,
the full chain (forward -> criteria -> total -> backward) and every
gradient are compared with the fixtures README §11 tolerances
(:func:`mmmrhd.testing.parity.run_parity`). TaskWeave has its own, more
detailed test (test_taskweave_parity.py). Add a fixture here when its
adapter exists.
"""
import os.path as osp

import pytest

from mmmrhd.testing import get_parity_adapter, load_fixture
from mmmrhd.testing.parity import run_parity

#: fixture file -> adapter name
FIXTURES = {
    'momentdetr.pth': 'momentdetr',
    'qddetr.pth': 'qddetr',
    'trdetr.pth': 'trdetr',
}


@pytest.fixture(scope='module')
def results(fixtures_dir):
    cache = {}

    def get(name):
        if name not in cache:
            fx = load_fixture(osp.join(fixtures_dir, name))
            adapter = get_parity_adapter(fx)
            cache[name] = (fx, adapter, run_parity(adapter, fx))
        return cache[name]

    return get


@pytest.mark.parametrize('name', sorted(FIXTURES))
def test_adapter_is_picked_from_meta(name, results):
    _, adapter, _ = results(name)
    assert adapter.name == FIXTURES[name]


@pytest.mark.parametrize('name', sorted(FIXTURES))
def test_every_comparison_within_tolerance(name, results):
    fx, _, rows = results(name)
    bad = [f'{r.category} {r.name}: {r.note} (budget {r.budget:.3g})'
           for r in rows if not r.ok]
    assert not bad, '\n'.join(bad)
    categories = {r.category for r in rows}
    assert {'weights', 'outputs', 'losses', 'matcher', 'total',
            'grads'} <= categories
    names = {r.name for r in rows}
    # every official output, loss term and gradient was compared
    for key in ('pred_logits', 'pred_spans', 'saliency_scores'):
        if key in fx['outputs']:
            assert key in names
    for key in fx['losses']:
        assert f'chain/{key}' in names and \
            f'on_official_outputs/{key}' in names
    for key in fx['grads_full']:
        assert key in names
    assert 'n_params' in names and 'total_loss' in names
    # model-specific terms outside fx['losses'] (TR-DETR: VTC / CTC)
    for key in fx.get('loss_extra') or {}:
        if key.startswith('loss_'):
            assert f'chain/{key}' in names and \
                f'on_official_outputs/{key}' in names
