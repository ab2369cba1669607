# Copyright (c) mmmrhd contributors. All rights reserved.
"""fakeaction's own modules: decoys named like mmmrhd parts (mmmrhd must
never build them) and a transform of its own."""
from mmcv.transforms import BaseTransform
from torch import nn

from .registry import MODELS, TASK_UTILS, TRANSFORMS


def _decoy(registry, name: str) -> None:

    def __init__(self, *args, **kwargs):
        raise AssertionError(f'fakeaction.{name} built by mistake')

    base = BaseTransform if registry is TRANSFORMS else nn.Module
    registry.register_module(name=name, module=type(name, (base, ), dict(
        __init__=__init__, transform=lambda self, results: results)))


for _registry, _names in (
        (MODELS, ('TransformerExpert', 'MRHDDataPreprocessor',
                  'InputProjection', 'MomentCriterion', 'SpanL1Loss')),
        (TASK_UTILS, ('HighlightToMask', 'HungarianMatcher',
                      'MomentPostProcessor')),
        (TRANSFORMS, ('LoadVideoFeatures', 'PackMRHDInputs'))):
    for _name in _names:
        _decoy(_registry, _name)
