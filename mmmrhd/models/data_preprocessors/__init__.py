# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.data_preprocessors."""
from .mrhd_data_preprocessor import MRHDDataPreprocessor

__all__ = ['MRHDDataPreprocessor']
