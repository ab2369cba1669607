# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures of the demo-training integration tests."""
import pytest
import torch


@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    """One compute thread: the models are tiny, so more threads only add
    synchronisation overhead on a 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory) -> str:
    """A fresh directory for the demo data of one test module (generated
    on first use)."""
    return str(tmp_path_factory.mktemp('demo_data') / 'demo')
