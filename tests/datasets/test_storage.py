# Copyright (c) mmmrhd contributors. All rights reserved.
"""Datasets on another MMEngine storage backend, selected by config.

The demo data is copied into an in-memory backend registered in the test
(:mod:`mmmrhd.testing.storage`, URIs ``memtest://demo/...``); the dataset of
``configs/_base_/datasets/demo.py`` with ``data_root='memtest://demo'`` and
``backend_args=dict(backend=...)`` must give the very tensors the local
copy gives, and errors of the backend must name the file.
"""
import copy
import io
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmmrhd.datasets.checks import build_split_dataset, check_dataset
from mmmrhd.datasets.data_errors import DataFileNotFoundError, DataOSError
from mmmrhd.datasets.demo import generate_demo_data
from mmmrhd.datasets.storage import file_exists, is_local, join_path
from mmmrhd.datasets.transforms.feature_io import read_feature_array
from mmmrhd.registry import DATASETS, build_part
from mmmrhd.testing.storage import MemoryBackend, register_memory_backend
from mmmrhd.utils import register_all_modules
from mmmrhd.utils.errors import DataError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_BASE = osp.join(REPO, 'configs', '_base_', 'datasets', 'demo.py')
BACKEND = 'mmmrhd_test_memory'
ROOT = 'memtest://demo'


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    return generate_demo_data(
        str(tmp_path_factory.mktemp('storage') / 'demo'), 0, 24, 12)


@pytest.fixture
def memory(demo_root):
    register_memory_backend(BACKEND, prefixes='memtest')
    MemoryBackend.clear()
    assert MemoryBackend.load_dir(demo_root, ROOT) > 50
    yield MemoryBackend
    MemoryBackend.clear()


def _dataset_cfg(split, data_root, backend_args):
    """``<split>_dataloader.dataset`` of the demo config, as a plain
    QVHighlights dataset on ``data_root``."""
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(DEMO_BASE)
    ds = copy.deepcopy(cfg[f'{split}_dataloader'].dataset.to_dict())
    for key in ('seed', ):
        ds.pop(key)
    ds.update(type='QVHighlightsDataset', data_root=data_root,
              backend_args=backend_args)
    return ds


def _build(split, data_root, backend_args=None, **kwargs):
    return build_part(DATASETS,
                      dict(_dataset_cfg(split, data_root, backend_args),
                           **kwargs))


def _assert_same_samples(a, b):
    assert len(a) == len(b) > 0
    for i in range(len(a)):
        x, y = a[i], b[i]
        assert x['inputs'].keys() == y['inputs'].keys()
        for key, value in x['inputs'].items():
            assert value.dtype == y['inputs'][key].dtype
            assert torch.equal(value, y['inputs'][key]), key  # bitwise
        assert x['data_samples']['qid'] == y['data_samples']['qid']


def test_the_base_config_passes_backend_args_to_every_split():
    cfg = Config.fromfile(DEMO_BASE)
    assert cfg.backend_args is None
    for split in ('train', 'val', 'test'):
        assert 'backend_args' in cfg[f'{split}_dataloader'].dataset


@pytest.mark.parametrize('split', ['val', 'train'])
def test_memory_backend_by_config_equals_local_disk(memory, demo_root,
                                                    split):
    torch.manual_seed(0)
    local = _build(split, demo_root)
    torch.manual_seed(0)
    remote = _build(split, ROOT, dict(backend=BACKEND))
    assert remote.ann_file == f'{ROOT}/highlight_{split}_release.jsonl'
    # the dataset hands its backend_args to its loading transforms
    loaders = [t for t in remote.pipeline.transforms
               if hasattr(t, 'backend_args')]
    assert len(loaders) == 2
    assert all(t.backend_args == dict(backend=BACKEND) for t in loaders)
    torch.manual_seed(1)
    expected = [local[i] for i in range(len(local))]
    torch.manual_seed(1)
    got = [remote[i] for i in range(len(remote))]
    _assert_same_samples(expected, got)
    # everything came from the backend: annotation + 3 feature files/sample
    assert memory.reads[remote.ann_file] == 1
    assert sum(memory.reads.values()) == 1 + 3 * len(remote)


def test_uri_prefix_alone_selects_the_backend(memory, demo_root):
    local = _build('val', demo_root)
    remote = _build('val', ROOT)  # backend_args=None: by the prefix
    _assert_same_samples([local[0], local[5]], [remote[0], remote[5]])


def test_a_transform_keeps_its_own_backend_args(memory, demo_root):
    cfg = _dataset_cfg('val', ROOT, dict(backend=BACKEND))
    cfg['pipeline'][0] = dict(cfg['pipeline'][0],
                              backend_args=dict(backend='local'))
    # the video features are then local: not found under memtest://
    with pytest.raises(DataError, match=r'feature file\(s\) needed by '
                       rf'{ROOT}/highlight_val_release.jsonl do not exist: '
                       rf'{ROOT}/slowfast_features/'):
        build_part(DATASETS, cfg)


def test_missing_files_are_named(memory):
    del memory.files[f'{ROOT}/highlight_val_release.jsonl']
    with pytest.raises(DataFileNotFoundError,
                       match=rf'^annotation file not found: {ROOT}/'
                       r'highlight_val_release.jsonl$'):
        _build('val', ROOT, dict(backend=BACKEND))


def test_missing_feature_file_found_at_build_and_at_load(memory):
    dataset = _build('val', ROOT, dict(backend=BACKEND))
    vid = dataset.get_data_info(0)['vid']
    path = f'{ROOT}/clip_features/{vid}.npz'
    data = memory.files.pop(path)
    # at load time (the build-time check already ran)
    with pytest.raises(DataFileNotFoundError,
                       match=rf'^video feature file not found: {path}$'):
        dataset[0]
    # at build time: the dataset asks the backend (isfile)
    with pytest.raises(DataError, match=rf'do not exist: {path} \(qid'):
        _build('val', ROOT, dict(backend=BACKEND))
    memory.files[path] = data


def test_backend_errors_name_the_file(memory):
    dataset = _build('val', ROOT, dict(backend=BACKEND))
    qid = dataset.get_data_info(2)['qid']
    path = f'{ROOT}/clip_text_features/qid{qid}.npz'
    memory.broken.add(path)
    with pytest.raises(DataOSError) as info:
        dataset[2]
    assert str(info.value) == (
        f'cannot read text feature file {path} from storage backend '
        'MemoryBackend: ConnectionError: connection reset by peer')
    memory.broken.clear()
    memory.files[path] = memory.files[path][:40]  # truncated archive
    with pytest.raises(DataOSError,
                       match=rf'^cannot read text feature file {path}: not '
                       r'a valid .npz archive, truncated or corrupt'):
        dataset[2]


def test_check_dataset_reads_through_the_backend(memory):
    cfg = Config.fromfile(DEMO_BASE)
    cfg.val_dataloader.dataset = _dataset_cfg('val', ROOT,
                                              dict(backend=BACKEND))
    result = check_dataset(build_split_dataset(cfg, 'val'))
    assert result.problems == []
    assert result.num_records == 12
    assert result.input_dims == dict(video=64 + 32 + 2, text=32)
    # a broken and a garbage file are both listed, by path
    info = build_split_dataset(cfg, 'val').collect_problems()[0][0]
    bad_video = f'{ROOT}/slowfast_features/{info["vid"]}.npz'
    bad_text = f'{ROOT}/clip_text_features/qid{info["qid"]}.npz'
    memory.broken.add(bad_video)
    memory.files[bad_text] = b'not numpy at all'
    problems = check_dataset(build_split_dataset(cfg, 'val')).problems
    assert len(problems) == 2
    assert problems[0].startswith(
        f'cannot read video feature file {bad_video} from storage backend '
        'MemoryBackend: ConnectionError')
    assert problems[1].startswith(
        f'text feature file {bad_text} is not a valid .npz archive '
        '(unrecognised content)')


def test_read_feature_array_matches_np_load(memory, demo_root):
    vid = sorted(k for k in memory.files if '/clip_features/' in k)[0]
    rel = vid[len(ROOT) + 1:]
    got = read_feature_array(vid, 'features', 'video feature',
                             dict(backend=BACKEND))
    with np.load(osp.join(demo_root, rel)) as f:
        np.testing.assert_array_equal(got, f['features'])
    with np.load(io.BytesIO(memory.files[vid])) as f:
        assert got.dtype == f['features'].dtype


def test_storage_helpers(memory, tmp_path):
    assert is_local(str(tmp_path / 'a.npz'))
    assert is_local(str(tmp_path / 'a.npz'), dict(backend='local'))
    assert not is_local('memtest://demo/x.npz')
    assert not is_local(str(tmp_path / 'a.npz'), dict(backend=BACKEND))
    assert join_path(ROOT, 'a/b.npz') == 'memtest://demo/a/b.npz'
    assert join_path(str(tmp_path), 'b') == osp.join(str(tmp_path), 'b')
    assert file_exists(f'{ROOT}/demo_meta.json') is True
    assert file_exists(f'{ROOT}/nothing.json') is False


@pytest.mark.parametrize('config', ['tvsum', 'charades_sta'])
def test_other_datasets_on_the_backend(memory, factory, config):
    """TVSum (.npy I3D streams, 'token' text) and Charades-STA (two .npz
    streams) from their base configs: backend == local disk."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', f'{config}.py'))
    ds = cfg.val_dataloader.dataset.to_dict()
    vids = ['vidA', 'vidB']
    if config == 'tvsum':
        records = [dict(qid=v, query=f'title {v}', duration=4, vid=v,
                        domain='BK', label=[[1.0 + i] * 20 for i in range(4)])
                   for v in vids]
        for v in vids:
            for part in ('rgb', 'opt'):
                factory.npy(f'features/video_features/{v}_{part}.npy',
                            factory.randn(4, 5).astype(np.float16))
            factory.npz(f'features/query_features/{v}.npz',
                        token=factory.randn(7, 3))
    else:
        records = [dict(qid=i, query='q', vid=v, duration=6.0,
                        relevant_windows=[[1.0, 3.0]])
                   for i, v in enumerate(vids)]
        for i, v in enumerate(vids):
            for stream in ('slowfast', 'clip'):
                factory.npz(f'features/{stream}_features/{v}.npz',
                            features=factory.randn(6, 4))
            factory.npz(f'features/clip_text_features/qid{i}.npz',
                        last_hidden_state=factory.randn(5, 3))
    factory.jsonl(ds['ann_file'], records)
    MemoryBackend.load_dir(factory.root, 'memtest://other')
    ds.pop('domain', None)
    local = build_part(DATASETS, dict(ds, data_root=factory.root))
    remote = build_part(
        DATASETS,
        dict(ds, data_root='memtest://other', backend_args=dict(
            backend=BACKEND)))
    _assert_same_samples(local, remote)
    assert len(memory.reads) == 1 + 3 * len(vids)  # ann + 3 files each
