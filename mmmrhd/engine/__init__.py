# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training-loop parts: hooks, the runner of the tools, strict loading."""
from .hooks import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
