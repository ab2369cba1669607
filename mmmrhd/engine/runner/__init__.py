# Copyright (c) mmmrhd contributors. All rights reserved.
"""The runner of the tools, strict checkpoint loading, the log processor."""
from .mrhd_log_processor import MRHDLogProcessor
from .safe_runner import MRHDRunner, resume_candidates
from .strict_load import (STRICT_LOAD_KEY, StrictPretrainedInit, check_fit,
                          default_strict_load, load_checked, load_into,
                          state_dict_mismatch, strict_load_default)

__all__ = [
    'MRHDLogProcessor', 'MRHDRunner', 'resume_candidates', 'STRICT_LOAD_KEY',
    'StrictPretrainedInit', 'check_fit', 'default_strict_load',
    'load_checked', 'load_into',
    'state_dict_mismatch', 'strict_load_default'
]
