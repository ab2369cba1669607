# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures of the config tests."""
import os.path as osp

import pytest
from mmengine.registry import DefaultScope

from mmmrhd.registry import DATASETS
from mmmrhd.utils import register_all_modules


@pytest.fixture(scope='module')
def mmmrhd_scope():
    """All modules registered and ``mmmrhd`` the default scope (use with
    ``pytestmark = pytest.mark.usefixtures('mmmrhd_scope')``)."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        yield


@pytest.fixture(scope='module')
def fake_qvh(fixtures_dir):
    """The fake QVHighlights directory of the fixtures (skip without it)."""
    root = osp.join(fixtures_dir, 'fake_qvh')
    if not osp.isdir(root):
        pytest.skip(f'{root} not found')
    return root


@pytest.fixture(scope='module')
def fake_qvh_dataset(fake_qvh):
    """``build(ds_cfg)``: a config's QVHighlights dataset built on the fake
    directory (its annotation file and SlowFast + CLIP features)."""

    def build(ds_cfg):
        return DATASETS.build(
            dict(
                ds_cfg,
                data_root=fake_qvh,
                ann_file='highlight_fake_release.jsonl',
                data_prefix=dict(
                    video=['slowfast_features', 'clip_features'],
                    text='clip_text_features')))

    return build
