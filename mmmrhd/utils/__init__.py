# Copyright (c) mmmrhd contributors. All rights reserved.
"""Utilities: environment set-up, checkpoint loading, span operations."""
from .setup_env import register_all_modules

__all__ = ['register_all_modules']
