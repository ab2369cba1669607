# Copyright (c) mmmrhd contributors. All rights reserved.
"""The mmcv / mmcv-lite range check, and co-installation with MMAction2.

The MMAction2 test is an oracle test: it runs where ``mmaction2`` 1.2.0 is
installed beside mmmrhd (see docs/en/get_started.md "Install beside
MMAction2") and is skipped elsewhere.
"""
import subprocess
import sys

import pytest

from mmmrhd.utils.mmcv_compat import (MMCV_MAX, MMCV_MIN, MMCVVersionError,
                                      check_mmcv_version, mmcv_distribution)


def test_installed_mmcv_is_in_range():
    import mmcv
    assert check_mmcv_version() == mmcv.__version__
    dist = mmcv_distribution()
    # our venvs install mmcv-lite; a full mmcv is accepted as well
    assert dist is not None and dist.split()[0] in ('mmcv', 'mmcv-lite')
    assert dist.split()[1] == mmcv.__version__


@pytest.mark.parametrize('version',
                         ['2.0.0rc4', '2.0.0', '2.1.0', '2.2.0', '2.2.9'])
def test_versions_in_range(version):
    assert check_mmcv_version(version) == version


@pytest.mark.parametrize('version', ['1.7.2', '2.0.0rc3', '2.3.0', '3.0.0'])
def test_versions_out_of_range(version):
    with pytest.raises(MMCVVersionError) as err:
        check_mmcv_version(version)
    msg = str(err.value)
    assert '\n' not in msg
    assert msg.startswith(f'mmmrhd needs mmcv>={MMCV_MIN},<{MMCV_MAX} '
                          f'(from the package mmcv or mmcv-lite) but mmcv '
                          f'{version} is installed; ')
    assert "'pip install mmcv-lite==2.1.0'" in msg
    assert isinstance(err.value, ImportError)


def test_missing_mmcv_names_both_packages(monkeypatch):
    monkeypatch.setitem(sys.modules, 'mmcv', None)  # import mmcv fails
    with pytest.raises(MMCVVersionError) as err:
        check_mmcv_version()
    msg = str(err.value)
    assert msg.startswith(f'mmmrhd needs mmcv>={MMCV_MIN},<{MMCV_MAX} but no '
                          'mmcv is installed; install one of the two')
    assert 'mmcv-lite==2.1.0' in msg and 'full mmcv' in msg


def _import_datasets_with_mmcv(version_code: str) -> subprocess.CompletedProcess:
    code = (f'{version_code}\n'
            'import mmmrhd.datasets\n'
            'print("imported")')
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=120)


def test_importing_the_transforms_checks_the_range():
    proc = _import_datasets_with_mmcv(
        'import mmcv; mmcv.__version__ = "2.3.0"')
    assert proc.returncode != 0 and 'imported' not in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('mmmrhd.utils.mmcv_compat.MMCVVersionError: '
                           'mmmrhd needs mmcv>=2.0.0rc4,<2.3.0 (from the '
                           'package mmcv or mmcv-lite) but mmcv 2.3.0')
    proc = _import_datasets_with_mmcv('import sys; sys.modules["mmcv"] = None')
    assert proc.returncode != 0
    assert 'but no mmcv is installed' in proc.stderr.strip().splitlines()[-1]


def test_beside_mmaction2():
    """``import mmaction, mmmrhd``: both import and their registries coexist.

    mmaction2 1.2.0's PyPI wheel lacks ``mmaction/models/localizers/drn``, so
    ``mmaction.models`` cannot be imported from it; its datasets and
    transforms can, and that is what is checked here.
    """
    mmaction = pytest.importorskip('mmaction')
    from mmaction.registry import TRANSFORMS as MMA_TRANSFORMS
    from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
    from mmengine.registry import DefaultScope

    import mmaction.datasets  # noqa: F401 (registers mmaction transforms)
    from mmmrhd.registry import TRANSFORMS
    from mmmrhd.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    assert mmaction.__version__ == '1.2.0'
    check_mmcv_version()  # the mmcv that MMAction2 accepted
    assert TRANSFORMS.parent is ROOT_TRANSFORMS
    assert MMA_TRANSFORMS.parent is ROOT_TRANSFORMS
    assert ROOT_TRANSFORMS.children['mmmrhd'] is TRANSFORMS
    assert ROOT_TRANSFORMS.children['mmaction'] is MMA_TRANSFORMS
    scope = DefaultScope.get_instance(
        'test_beside_mmaction2', scope_name='mmaction')
    assert scope.scope_name == 'mmaction'
    # under the mmaction scope: its own transform and ours, by prefix
    sample = MMA_TRANSFORMS.build(
        dict(type='SampleFrames', clip_len=4, num_clips=1))
    assert type(sample).__module__.startswith('mmaction.')
    tef = MMA_TRANSFORMS.build(dict(type='mmmrhd.AppendTEF'))
    assert type(tef).__module__.startswith('mmmrhd.')
    # and the other way round
    assert type(TRANSFORMS.build(dict(type='mmaction.SampleFrames',
                                      clip_len=4))).__name__ == 'SampleFrames'
