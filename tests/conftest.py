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


@pytest.fixture(scope='session')
def fake_qvh(fixtures_dir: str) -> str:
    """The fake QVHighlights directory of the fixtures (skip without it)."""
    root = osp.join(fixtures_dir, 'fake_qvh')
    if not osp.isdir(root):
        pytest.skip(f'{root} not found')
    return root


@pytest.fixture(scope='session')
def fake_qvh_dataset(fake_qvh: str):
    """``build(ds_cfg)``: a QVHighlights-layout ``DATASETS`` config (e.g. a
    config's ``train_dataloader.dataset``) built on the fake directory (its
    annotation file and SlowFast + CLIP features)."""
    from mmmrhd.registry import DATASETS

    def build(ds_cfg: dict):
        return DATASETS.build(
            dict(
                ds_cfg,
                data_root=fake_qvh,
                ann_file='highlight_fake_release.jsonl',
                data_prefix=dict(
                    video=['slowfast_features', 'clip_features'],
                    text='clip_text_features')))

    return build
