# Copyright (c) mmmrhd contributors. All rights reserved.
"""The per-model ``configs/<dir>/metafile.yml`` (OpenMMLab model index).

Every directory of model configs has a metafile that lists each of its
configs exactly once; names are unique and equal the config names; the
fields follow the OpenMMLab metafile schema as ``mim search`` reads it; the
metric names and units are those our evaluators log; ``Epochs``,
``Batch Size`` and ``Parameters`` agree with the configs (the parameters
are counted by building every model).
"""
import glob
import os
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmmrhd.registry import MODELS
from mmmrhd.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
#: config directories that hold no model configs
NON_MODEL_DIRS = {'_base_', 'feature_extraction'}
#: the five models: their collections name a paper and the official code
PAPER_DIRS = {'taskweave', 'tr_detr', 'videolights', 'qd_detr', 'moment_detr'}
MODEL_DIRS = sorted(
    d for d in os.listdir(CONFIG_DIR)
    if osp.isdir(osp.join(CONFIG_DIR, d))
    if d not in NON_MODEL_DIRS)
MODEL_KEYS = {'Name', 'In Collection', 'Config', 'Metadata', 'Results',
              'Weights', 'Paper', 'Code', 'README'}
COLLECTION_KEYS = {'Name', 'Metadata', 'Paper', 'README', 'Code'}
TASKS = {'Moment Retrieval', 'Highlight Detection'}
_QVH = {f'MR-{b}-mAP' for b in ('full', 'short', 'middle', 'long')} | {
    'MR-full-R1@0.5', 'MR-full-R1@0.7', 'MR-full-mAP@0.5', 'MR-full-mAP@0.75'
} | {f'HL-min-{t}-{m}' for t in ('Fair', 'Good', 'VeryGood')
     for m in ('mAP', 'Hit1')}
#: metric names our evaluators log per dataset, and the value range
METRICS = {
    'QVHighlights': (_QVH, 100.0),
    'Charades-STA': ({f'MR-full-R1@{t}' for t in ('0.3', '0.5', '0.7')}
                     | {'MR-full-mIoU', 'MR-full-mAP'}, 100.0),
    'TVSum': ({'mAP'}, 1.0),  # TVSumMetric logs fractions
}


def _load(path) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def metafiles() -> dict:
    return {d: _load(osp.join(CONFIG_DIR, d, 'metafile.yml'))
            for d in MODEL_DIRS}


def test_every_model_dir_has_a_metafile():
    assert set(PAPER_DIRS) <= set(MODEL_DIRS)
    for d in MODEL_DIRS:
        assert osp.isfile(osp.join(CONFIG_DIR, d, 'metafile.yml')), d


def test_every_config_listed_once_and_names_unique(metafiles):
    names = []
    for d, meta in metafiles.items():
        listed = [m['Config'] for m in meta['Models']]
        on_disk = sorted(
            osp.relpath(p, REPO) for p in glob.glob(
                osp.join(CONFIG_DIR, d, '**', '*.py'), recursive=True))
        assert sorted(listed) == on_disk, d
        for model in meta['Models']:
            assert osp.isfile(osp.join(REPO, model['Config']))
            # OpenMMLab convention: the model is named after its config
            assert model['Name'] == osp.splitext(osp.basename(
                model['Config']))[0]
            names.append(model['Name'])
        names += [c['Name'] for c in meta['Collections']]
    assert len(names) == len(set(names)), sorted(
        n for n in names if names.count(n) > 1)


def test_schema(metafiles):
    for d, meta in metafiles.items():
        assert set(meta) == {'Collections', 'Models'}, d
        collections = {c['Name'] for c in meta['Collections']}
        for coll in meta['Collections']:
            assert set(coll) <= COLLECTION_KEYS, (d, set(coll))
            assert coll['README'] == f'configs/{d}/README.md'
            assert osp.isfile(osp.join(REPO, coll['README']))
            assert coll['Metadata']['Training Data']
            assert coll['Metadata']['Architecture']
            if d in PAPER_DIRS:
                assert coll['Paper']['URL'].startswith('https://')
                assert coll['Paper']['Title']
                assert re.fullmatch(r'https://github\.com/[^/]+/[^/]+/tree/'
                                    r'[0-9a-f]{40}', coll['Code']['URL'])
                version = coll['Code']['Version']
                assert f'/tree/{version}' in coll['Code']['URL']
                assert re.fullmatch(r'[0-9a-f]{8}', coll['Code']['Version'])
        for model in meta['Models']:
            where = f'{d}: {model["Name"]}'
            assert set(model) <= MODEL_KEYS, (where, set(model))
            assert model['In Collection'] in collections, where
            assert model.get('Weights') is None, where  # none released
            meta_ = model['Metadata']
            # mim search splits metadata keys with '(' into name + unit
            assert all('(' not in k for k in meta_), where
            for key in ('Epochs', 'Batch Size', 'Parameters'):
                assert isinstance(meta_[key], int) and meta_[key] > 0, where
            source = meta_['Results Source']
            results = model.get('Results')
            if results is None:
                assert source.startswith('none'), where
                continue
            assert source.startswith('reported') and 'not reproduced' in \
                source, where
            assert results, where
            for result in results:
                assert set(result) == {'Task', 'Dataset', 'Metrics'}, where
                assert result['Task'] in TASKS, where
                assert result['Dataset'] == meta_['Training Data'], where
                names, top = METRICS[result['Dataset']]
                assert result['Metrics'] and set(result['Metrics']) <= names, (
                    where, set(result['Metrics']) - names)
                for value in result['Metrics'].values():
                    assert isinstance(value, float) and 0 < value <= top, (
                        where, value)


def test_numbers_copied_from_the_papers(metafiles):
    """Spot checks against the sources named in ``Results Source``."""

    def metrics(d, name):
        model = next(m for m in metafiles[d]['Models'] if m['Name'] == name)
        out = {}
        for result in model['Results']:
            out.update(result['Metrics'])
        return out

    # TaskWeave paper Table 3 (val) MR columns, Table 7 MR2HD HD columns
    assert metrics('taskweave', 'taskweave_qvh') == {
        'MR-full-R1@0.5': 64.26, 'MR-full-R1@0.7': 50.06,
        'MR-full-mAP@0.5': 65.39, 'MR-full-mAP@0.75': 46.47,
        'MR-full-mAP': 45.38, 'HL-min-VeryGood-mAP': 38.73,
        'HL-min-VeryGood-Hit1': 62.84}
    # VideoLights paper Table II (test)
    assert metrics('videolights', 'videolights_qvh')['MR-full-mAP'] == 43.38
    assert metrics('tr_detr', 'tr_detr_qvh')['MR-full-R1@0.5'] == 64.66
    assert metrics('qd_detr', 'qd_detr_tvsum') == {'mAP': 0.85}


@pytest.fixture(scope='module')
def built_counts(metafiles) -> dict:
    """``{config: (epochs, batch size, parameters)}`` measured here."""
    register_all_modules(init_default_scope=False)
    out = {}
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        for meta in metafiles.values():
            for model in meta['Models']:
                cfg = Config.fromfile(osp.join(REPO, model['Config']))
                net = MODELS.build(cfg.model)
                out[model['Config']] = (
                    cfg.train_cfg.max_epochs, cfg.train_dataloader.batch_size,
                    sum(p.numel() for p in net.parameters()))
    return out


def test_metadata_matches_the_configs(metafiles, built_counts):
    for meta in metafiles.values():
        for model in meta['Models']:
            m = model['Metadata']
            assert (m['Epochs'], m['Batch Size'], m['Parameters']) == \
                built_counts[model['Config']], model['Name']
