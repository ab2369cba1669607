# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd: joint video moment retrieval and highlight detection on MMEngine.

Importing the package also makes MMEngine load checkpoints safely
(``weights_only=True`` with a small plain-data allowlist), see
:mod:`mmmrhd.utils.checkpoint`.
"""
from .utils import checkpoint as _checkpoint  # noqa: F401 (registers loaders)
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
