# Copyright (c) mmmrhd contributors. All rights reserved.
"""Per-model parity adapters (one module per model), see :mod:`.base`."""
from .base import (PARITY_ADAPTERS, ParityAdapter, get_parity_adapter,
                   register_parity_adapter, supported_repos)
from .momentdetr import MomentDETRAdapter
from .qddetr import QDDETRAdapter
from .taskweave import TaskWeaveAdapter
from .trdetr import TRDETRAdapter
from .videolights import VideoLightsAdapter

__all__ = [
    'PARITY_ADAPTERS', 'ParityAdapter', 'get_parity_adapter',
    'register_parity_adapter', 'supported_repos', 'MomentDETRAdapter',
    'QDDETRAdapter', 'TaskWeaveAdapter', 'TRDETRAdapter',
    'VideoLightsAdapter'
]
