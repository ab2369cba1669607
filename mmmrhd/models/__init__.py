# Copyright (c) mmmrhd contributors. All rights reserved.
"""Models and their parts."""
from .losses import *  # noqa: F401,F403
from .post_processors import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
