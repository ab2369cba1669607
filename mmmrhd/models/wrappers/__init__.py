# Copyright (c) mmmrhd contributors. All rights reserved.
"""Model wrappers."""
from .distributed import MRHDDistributedDataParallel

__all__ = ['MRHDDistributedDataParallel']
