# Copyright (c) mmmrhd contributors. All rights reserved.
"""OpenMMLab packaging: model-index.yml and the ``.mim`` data of the wheel.

The wheel is built from a copy of the repository with the venv's setuptools
(``pip wheel --no-build-isolation``, a few seconds, no download). That
``mim search`` / ``mim train`` work from an installed wheel in a fresh venv
is checked by ``tools/misc/check_mim.sh`` (needs PyPI; not run here).
"""
import email
import glob
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile
from typing import Dict, List, Set

import pytest
import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM_DIRS = ('configs', 'tools')
#: What the build needs besides the package itself.
BUILD_FILES = ('pyproject.toml', 'setup.py', 'MANIFEST.in', 'README.md',
               'model-index.yml')
#: every configs/<folder>/metafile.yml: the five models and the mixed-parts
#: configs
METAFILE_DIRS = ('taskweave', 'tr_detr', 'videolights', 'qd_detr',
                 'moment_detr', 'mixed')


def _repo_files(name: str) -> Set[str]:
    """Files under ``REPO_ROOT/name``, relative to ``REPO_ROOT``."""
    found = set()
    for root, dirs, files in os.walk(osp.join(REPO_ROOT, name)):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        found.update(
            osp.relpath(osp.join(root, f), REPO_ROOT) for f in files
            if not f.endswith(('.pyc', '.pyo')))
    return found


def _load_yaml(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def _metafiles() -> Dict[str, dict]:
    index = _load_yaml(osp.join(REPO_ROOT, 'model-index.yml'))
    return {
        path: _load_yaml(osp.join(REPO_ROOT, path))
        for path in index['Import']
    }


def test_model_index_imports_every_model_metafile():
    metafiles = _metafiles()
    assert list(metafiles) == [
        f'configs/{m}/metafile.yml' for m in METAFILE_DIRS]
    on_disk = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(metafiles) == on_disk
    names: List[str] = []
    for path, meta in metafiles.items():
        collections = {c['Name'] for c in meta['Collections']}
        assert meta['Models'], path
        for model in meta['Models']:
            assert model['In Collection'] in collections, (path, model)
            config = model['Config']
            assert osp.isfile(osp.join(REPO_ROOT, config)), (path, config)
            # a model's config lives in its metafile's folder (or below)
            assert config.startswith(osp.dirname(path) + '/'), (path, config)
            names.append(model['Name'])
    assert len(names) == len(set(names)), 'model names must be unique'
    assert {'taskweave_demo', 'qd_detr_demo'} <= set(names)


def _has_bdist_wheel() -> bool:
    return (importlib.util.find_spec('setuptools.command.bdist_wheel')
            is not None or importlib.util.find_spec('wheel') is not None)


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built from a clean copy of the repository."""
    if not _has_bdist_wheel():
        pytest.skip('setuptools without bdist_wheel and no wheel package')
    tmp = tmp_path_factory.mktemp('wheel')
    src, out = tmp / 'src', tmp / 'dist'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.pyo')
    for name in ('mmmrhd', ) + MIM_DIRS:
        shutil.copytree(osp.join(REPO_ROOT, name), src / name, ignore=ignore)
    for name in BUILD_FILES:
        shutil.copy2(osp.join(REPO_ROOT, name), src / name)
    proc = subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '--wheel-dir',
        str(out),
        str(src)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob('mmmrhd-*.whl'))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        yield zf


def test_wheel_ships_configs_tools_and_model_index(wheel):
    names = set(wheel.namelist())
    mim = 'mmmrhd/.mim/'
    for name in MIM_DIRS:
        shipped = {n[len(mim):] for n in names if n.startswith(mim + name)}
        assert shipped == _repo_files(name), name
    with open(osp.join(REPO_ROOT, 'model-index.yml'), 'rb') as f:
        assert wheel.read(mim + 'model-index.yml') == f.read()
    for expected in ('configs/taskweave/taskweave_demo.py',
                     'configs/_base_/default_runtime.py',
                     'configs/taskweave/metafile.yml', 'tools/train.py',
                     'tools/test.py', 'tools/misc/print_config.py',
                     'tools/analysis_tools/get_flops.py',
                     'tools/misc/publish_model.py'):
        assert mim + expected in names, expected
    # what model-index.yml imports and the metafiles name is in the wheel
    for path, meta in _metafiles().items():
        assert mim + path in names
        for model in meta['Models']:
            assert mim + model['Config'] in names, model['Name']
    # the package itself, and no byte code
    assert {'mmmrhd/__init__.py', 'mmmrhd/utils/mmcv_compat.py'} <= names
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]


def test_wheel_does_not_require_mmcv(wheel):
    """mmcv or mmcv-lite is the user's choice (mmmrhd.utils.mmcv_compat)."""
    metadata_name = next(
        n for n in wheel.namelist() if n.endswith('.dist-info/METADATA'))
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    requires = metadata.get_all('Requires-Dist')
    mmcv = [r for r in requires if r.startswith('mmcv')]
    assert mmcv == ['mmcv-lite<2.3.0,>=2.0.0rc4; extra == "mmcv-lite"']
    assert 'mmcv-lite' in metadata.get_all('Provides-Extra')
    assert any(r.startswith('mmengine') for r in requires)
