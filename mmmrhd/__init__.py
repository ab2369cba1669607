# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd: joint video moment retrieval and highlight detection on MMEngine."""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
