# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures of the config tests."""
import pytest
from mmengine.registry import DefaultScope

from mmmrhd.utils import register_all_modules


@pytest.fixture(scope='module')
def mmmrhd_scope():
    """All modules registered and ``mmmrhd`` the default scope (use with
    ``pytestmark = pytest.mark.usefixtures('mmmrhd_scope')``)."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        yield
