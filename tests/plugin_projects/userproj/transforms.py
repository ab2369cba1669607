# Copyright (c) mmmrhd contributors. All rights reserved.
"""The user project's transforms (one a decoy with an mmmrhd name)."""
from mmcv.transforms import BaseTransform

from .registry import TRANSFORMS

#: ``qid`` of every sample that went through :class:`RecordQid`.
SEEN_QIDS = []


@TRANSFORMS.register_module()
class RecordQid(BaseTransform):
    """Records the sample's ``qid`` (a user transform inside an mmmrhd
    pipeline, named with the ``userproj.`` prefix there)."""

    def transform(self, results: dict) -> dict:
        SEEN_QIDS.append(results['qid'])
        return results


@TRANSFORMS.register_module()
class LoadVideoFeatures(BaseTransform):
    """A decoy with the name of an mmmrhd transform."""

    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError('userproj.LoadVideoFeatures built by mistake')

    def transform(self, results: dict) -> dict:
        return results
