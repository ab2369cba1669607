# Copyright (c) mmmrhd contributors. All rights reserved.
"""Shared pytest fixtures."""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_root() -> str:
    """Location of the shared reference material (``../shared``).

    Overridable with the ``MMMRHD_SHARED`` environment variable.
    """
    return os.environ.get('MMMRHD_SHARED',
                          osp.join(osp.dirname(REPO_ROOT), 'shared'))


@pytest.fixture(scope='session')
def shared_dir() -> str:
    """Path of ``../shared``; skips the test when it is absent."""
    root = shared_root()
    if not osp.isdir(root):
        pytest.skip(f'shared reference material not found at {root} '
                    '(set MMMRHD_SHARED)')
    return root


@pytest.fixture(scope='session')
def fixtures_dir(shared_dir: str) -> str:
    """Path of the official-output fixtures (``../shared/fixtures``)."""
    return osp.join(shared_dir, 'fixtures')


@pytest.fixture(scope='session')
def data_dir(shared_dir: str) -> str:
    """Path of the real annotation files (``../shared/data``)."""
    return osp.join(shared_dir, 'data')


@pytest.fixture(scope='module')
def one_torch_thread():
    """One torch compute thread for the module's tests.

    Demo-sized models only pay synchronisation overhead for more threads on
    the shared 2-core machine. Use with
    ``pytestmark = pytest.mark.usefixtures('one_torch_thread')``.
    """
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
