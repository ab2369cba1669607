# Copyright (c) mmmrhd contributors. All rights reserved.
"""Embedded synthetic demo dataset (placeholder, filled in by its owner)."""
__all__: list = []
