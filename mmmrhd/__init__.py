# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd: joint video moment retrieval and highlight detection on MMEngine.

``import mmmrhd`` registers every part (models, datasets, transforms,
metrics, hooks, runners, visualizers, the inferencer) in the ``mmmrhd``
registries, so another project reaches them after
``custom_imports=dict(imports=['mmmrhd'])`` with the ``mmmrhd.`` prefix
(``type='mmmrhd.TaskWeave'``); see ``docs/en/advanced_guides/
use_from_other_projects.md``. Heavy optional dependencies (decord, PyAV,
matplotlib, scipy.optimize) are imported on first use, not here.

Importing the package also makes MMEngine load checkpoints safely
(``weights_only=True`` with a small plain-data allowlist), see
:mod:`mmmrhd.utils.checkpoint`.
"""
from .utils import checkpoint as _checkpoint  # noqa: F401 (registers loaders)
from .version import __version__, version_info

# Register every module (each subpackage imports its registered classes).
from . import apis, datasets, engine, evaluation  # noqa: E402,F401
from . import models, visualization  # noqa: E402,F401

__all__ = ['__version__', 'version_info']
