# Copyright (c) mmmrhd contributors. All rights reserved.
"""Models and their parts."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .decoders import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .extractors import *  # noqa: F401,F403
from .feedback import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .post_processors import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
