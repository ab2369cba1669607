# Copyright (c) mmmrhd contributors. All rights reserved.
"""Datasets, transforms and batching for MR/HD."""
from .collate import collate_targets, mrhd_collate, pad_sequences
from .demo import *  # noqa: F401,F403

__all__ = ['mrhd_collate', 'collate_targets', 'pad_sequences']
