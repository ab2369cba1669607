# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training-loop parts: hooks (and later loops, optimizer constructors)."""
from .hooks import *  # noqa: F401,F403
