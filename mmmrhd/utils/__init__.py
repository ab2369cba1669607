# Copyright (c) mmmrhd contributors. All rights reserved.
"""Utilities: environment set-up, safe checkpoint loading, CPU DDP."""
from .checkpoint import (TRUST_ENV_VAR, UntrustedCheckpointError,
                         checkpoint_safe_globals, load_checkpoint_file,
                         register_checkpoint_loaders)
from .dist import prepare_distributed
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'TRUST_ENV_VAR', 'UntrustedCheckpointError',
    'checkpoint_safe_globals', 'load_checkpoint_file',
    'register_checkpoint_loaders', 'prepare_distributed'
]
