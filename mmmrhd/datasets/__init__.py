# Copyright (c) mmmrhd contributors. All rights reserved.
"""Datasets, transforms and batching for MR/HD."""
from .charades_sta import CharadesSTADataset
from .collate import collate_targets, mrhd_collate, pad_sequences
from .demo import *  # noqa: F401,F403
from .demo_dataset import *  # noqa: F401,F403
from .mrhd_dataset import MRHDDataset
from .qvhighlights import QVHighlightsDataset
from .transforms import *  # noqa: F401,F403
from .tvsum import TVSUM_DOMAINS, TVSumDataset

__all__ = [
    'mrhd_collate', 'collate_targets', 'pad_sequences', 'MRHDDataset',
    'QVHighlightsDataset', 'CharadesSTADataset', 'TVSumDataset',
    'TVSUM_DOMAINS'
]
