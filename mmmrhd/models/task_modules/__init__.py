# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.task_modules: weight-free model utilities (matchers)."""
from .hungarian_matcher import HungarianMatcher

__all__ = ['HungarianMatcher']
