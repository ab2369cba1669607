# Copyright (c) mmmrhd contributors. All rights reserved.
"""Build hook: ship ``configs/``, ``tools/`` and ``model-index.yml`` as
``mmmrhd/.mim/`` package data (all metadata is in ``pyproject.toml``).

This is OpenMMLab's ``add_mim_extension`` (``mmaction2:setup.py``) as a
setuptools ``build_py`` step: a wheel built from the repository (``python -m
build``, ``pip wheel .``, ``pip install .``) contains
``mmmrhd/.mim/{configs,tools,model-index.yml}``, which is what
``mim search mmmrhd``, ``mim train mmmrhd CONFIG``, MMEngine's
``_base_ = 'mmmrhd::...'`` inheritance and ``mmengine.hub`` look for. The
files are copied into the build directory, never into the source tree.
Editable installs (``pip install -e .``) get no ``.mim`` folder; use the
config paths of the checkout there.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

#: Repository paths copied to ``mmmrhd/.mim/<same path>``.
MIM_FILES = ('configs', 'tools', 'model-index.yml')
_IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.pyo')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` to ``mmmrhd/.mim``."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        root = osp.dirname(osp.abspath(__file__))
        target = osp.join(self.build_lib, 'mmmrhd', '.mim')
        for name in MIM_FILES:
            src, dst = osp.join(root, name), osp.join(target, name)
            if not osp.exists(src):
                raise FileNotFoundError(
                    f'{src} is missing: the wheel needs it in mmmrhd/.mim '
                    '(an sdist must include it, see MANIFEST.in)')
            if osp.isdir(dst):
                shutil.rmtree(dst)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=_IGNORE)
            else:
                shutil.copy2(src, dst)


setup(cmdclass={'build_py': BuildPyWithMim})
