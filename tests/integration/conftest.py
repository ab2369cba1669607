# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures of the demo-training integration tests."""
import pytest


@pytest.fixture(scope='module', autouse=True)
def _one_thread(one_torch_thread):
    """Every integration test module runs with one compute thread (see
    ``one_torch_thread`` in ``tests/conftest.py``)."""
    yield


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory) -> str:
    """A fresh directory for the demo data of one test module (generated
    on first use)."""
    return str(tmp_path_factory.mktemp('demo_data') / 'demo')
