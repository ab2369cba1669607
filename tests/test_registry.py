# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.registry: one child per MMEngine root registry, scope handling."""
import importlib
import subprocess
import sys
import textwrap

import mmengine.registry
import mmengine.registry.root as mmengine_root
import pytest
import torch
from mmengine import DefaultScope
from mmengine.registry import Registry
from torch import nn

import mmmrhd.registry as mmmrhd_registry
from mmmrhd.utils import register_all_modules

ROOTS = {
    name: value
    for name, value in vars(mmengine_root).items()
    if isinstance(value, Registry)
}
CHILDREN = {name: getattr(mmmrhd_registry, name)
            for name in mmmrhd_registry.__all__}


@mmmrhd_registry.MODELS.register_module(force=True)
class RegistryToyNet(nn.Module):
    """A module only the mmmrhd registry knows."""

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        self.fc = nn.Linear(width, 1)


@pytest.fixture
def restore_default_scope():
    """Undo DefaultScope instances created by a test (they are global)."""
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


def test_every_root_registry_has_a_child():
    assert len(ROOTS) == 23  # mmengine 0.10.7 mmengine/registry/root.py
    assert sorted(ROOTS) == sorted(CHILDREN)
    for name, root in ROOTS.items():
        child = CHILDREN[name]
        assert child.parent is root, name
        assert child.scope == 'mmmrhd', name
        assert child.name == root.name, name
        assert root.children['mmmrhd'] is child, name
        assert child._locations, name
        for location in child._locations:
            assert location.startswith('mmmrhd.'), (name, location)
            importlib.import_module(location)


def test_register_all_modules_sets_default_scope(restore_default_scope):
    DefaultScope._instance_dict.clear()
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmmrhd'
    # a foreign scope became current later: switched back, with a warning
    DefaultScope.get_instance('foreign-scope-test', scope_name='mmengine')
    with pytest.warns(UserWarning, match='is not "mmmrhd"'):
        register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmmrhd'
    # already mmmrhd: nothing to switch, no warning
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmmrhd'


def test_register_all_modules_keeps_scope_when_asked(restore_default_scope):
    DefaultScope.get_instance('foreign-scope-keep', scope_name='mmengine')
    register_all_modules(init_default_scope=False)
    assert DefaultScope.get_current_instance().scope_name == 'mmengine'
    # but our modules are registered
    assert mmmrhd_registry.FUNCTIONS.get('mrhd_collate') is not None


def test_build_with_and_without_prefix():
    cfg = dict(type='RegistryToyNet', width=3)
    # mmmrhd scope: plain names, through our registry or MMEngine's root
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        net = mmmrhd_registry.MODELS.build(cfg)
        assert isinstance(net, RegistryToyNet) and net.fc.in_features == 3
        assert isinstance(mmengine.registry.MODELS.build(cfg), RegistryToyNet)
    # another scope: the ``mmmrhd.`` prefix selects our registry
    with DefaultScope.overwrite_default_scope('mmengine'):
        net = mmengine.registry.MODELS.build(
            dict(type='mmmrhd.RegistryToyNet', width=4))
        assert isinstance(net, RegistryToyNet) and net.fc.in_features == 4
        with pytest.raises(KeyError, match='RegistryToyNet'):
            mmengine.registry.MODELS.build(cfg)
    # our registries fall back to MMEngine's modules (parent lookup)
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        optimizer = mmmrhd_registry.OPTIMIZERS.build(
            dict(type='SGD', lr=0.1, params=[torch.zeros(1,
                                                         requires_grad=True)]))
        assert isinstance(optimizer, torch.optim.SGD)


def test_custom_imports_from_foreign_scope(tmp_path):
    """A config of another project reaches mmmrhd via custom_imports."""
    config = tmp_path / 'foreign.py'
    config.write_text(
        "default_scope = 'mmengine'\n"
        "custom_imports = dict(imports=['mmmrhd'], "
        'allow_failed_imports=False)\n'
        "collate_fn = dict(type='mmmrhd.mrhd_collate')\n")
    script = textwrap.dedent(f"""
        import sys
        from mmengine import DefaultScope
        from mmengine.config import Config
        from mmengine.registry import FUNCTIONS
        assert 'mmmrhd' not in sys.modules
        cfg = Config.fromfile({str(config)!r})
        assert 'mmmrhd' in sys.modules
        DefaultScope.get_instance('foreign', scope_name=cfg.default_scope)
        fn = FUNCTIONS.get(cfg.collate_fn.type)
        from mmmrhd.datasets.collate import mrhd_collate
        assert fn is mrhd_collate, fn
        print('OK')
        """)
    proc = subprocess.run([sys.executable, '-c', script],
                          stdin=subprocess.DEVNULL,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'OK'


@pytest.mark.parametrize('scope', [None, 'mmengine'])
def test_build_part_pins_mmmrhd_scope(scope, restore_default_scope):
    """Nested parts resolve in mmmrhd whatever the caller's default scope."""
    cfg = dict(type='RegistryToyNet', width=3)
    with DefaultScope.overwrite_default_scope(scope):
        if scope == 'mmengine':
            # The plain build searches mmengine's registry and fails ...
            with pytest.raises(KeyError, match='RegistryToyNet'):
                mmengine.registry.MODELS.build(dict(cfg))
        # ... the pinned build finds our module.
        net = mmmrhd_registry.build_part(mmmrhd_registry.MODELS, cfg)
    assert isinstance(net, RegistryToyNet)
    assert net.fc.in_features == 3
    assert '_scope_' not in cfg  # the caller's dict is not modified
    module = nn.Linear(1, 1)
    assert mmmrhd_registry.build_part(mmmrhd_registry.MODELS, module) is module
    assert mmmrhd_registry.build_part(mmmrhd_registry.MODELS, None) is None


def test_build_part_hints_at_the_callers_prefix(restore_default_scope):
    """A caller's part named plainly inside ours: the error says how."""
    hint_models = Registry('model', parent=mmengine.registry.MODELS,
                           scope='hintproj')

    @hint_models.register_module()
    class HintOnlyNet(nn.Module):
        pass

    with DefaultScope.overwrite_default_scope('hintproj'):
        with pytest.raises(KeyError) as err:
            mmmrhd_registry.build_part(mmmrhd_registry.MODELS,
                                       dict(type='HintOnlyNet'))
        assert ("'HintOnlyNet' is registered in the hintproj::model "
                'registry: inside an mmmrhd part, name it with its scope, '
                "type='hintproj.HintOnlyNet'") in str(err.value)
        # with the prefix it builds
        net = mmmrhd_registry.build_part(mmmrhd_registry.MODELS,
                                         dict(type='hintproj.HintOnlyNet'))
        assert isinstance(net, HintOnlyNet)
        # a name nobody knows: MMEngine's message, no hint
        with pytest.raises(KeyError) as err:
            mmmrhd_registry.build_part(mmmrhd_registry.MODELS,
                                       dict(type='NoSuchNet'))
        assert 'NoSuchNet is not in the mmmrhd::model registry' in str(
            err.value)
        assert 'hintproj' not in str(err.value)
