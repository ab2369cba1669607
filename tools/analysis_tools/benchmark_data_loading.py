# Copyright (c) mmmrhd contributors. All rights reserved.
"""Benchmark feature loading: local fast path vs plain ``np.load`` and vs a
storage backend.

Example::

    python tools/analysis_tools/benchmark_data_loading.py          # demo val
    python tools/analysis_tools/benchmark_data_loading.py --data-root data/demo

On the demo data (generated on first use into ``--data-root``, by default
a temporary directory), in this one run and interleaved round by round, the
best of ``--repeat`` passes over the split of:

* ``np.load``: the sample's feature files opened and read by NumPy alone
  (the floor: no checks, no pipeline);
* ``read_feature_array``: the same files through mmmrhd's reader (local
  fast path, with its checks);
* ``dataset local``: ``dataset[i]`` for every sample (the whole pipeline),
  ``backend_args=None``;
* ``dataset backend=local``: the same with ``backend_args=dict(
  backend='local')`` (MMEngine's LocalBackend chosen by config: still the
  fast path);
* ``dataset in-memory``: the same files served by an in-memory MMEngine
  backend (:mod:`mmmrhd.testing.storage`): the generic path of any other
  storage (``get`` -> bytes -> ``np.load``), without disk or network time.

Ratios are to the first row of their group. ``--local-only`` times only the
first three rows (for comparing with an older checkout of mmmrhd:
``PYTHONPATH=<checkout> python <this script> --local-only``).
"""
import argparse
import os.path as osp
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

import numpy as np
from terminaltables import AsciiTable

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_BASE = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'demo.py')
MEMORY_BACKEND = 'mmmrhd_benchmark_memory'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark feature loading (local fast path vs np.load '
        'vs a storage backend) on the demo data.')
    parser.add_argument(
        '--data-root',
        help='demo data directory (default: generated into a temporary '
        'directory)')
    parser.add_argument(
        '--split', choices=['train', 'val'], default='val',
        help='split to load (default: val)')
    parser.add_argument(
        '--repeat', type=int, default=5, help='rounds (default: 5)')
    parser.add_argument(
        '--local-only', action='store_true',
        help='time only the local rows (runs on older mmmrhd checkouts)')
    return parser.parse_args(argv)


def _dataset(split: str, data_root: str, backend_args: Optional[dict]):
    from mmengine.config import Config

    from mmmrhd.registry import DATASETS, build_part
    cfg = Config.fromfile(DEMO_BASE)[f'{split}_dataloader'].dataset.to_dict()
    cfg.pop('seed', None)
    cfg.update(type='QVHighlightsDataset', data_root=data_root)
    if backend_args is not None:
        cfg['backend_args'] = backend_args
    return build_part(DATASETS, cfg)


def _files(dataset) -> List[tuple]:
    from mmmrhd.datasets.feature_rules import pipeline_feature_files
    return [(f.path, f.key, f.kind) for i in range(len(dataset))
            for f in pipeline_feature_files(dataset.pipeline.transforms,
                                            dataset.get_data_info(i))]


def _timers(args, data_root: str) -> Dict[str, Callable[[], None]]:
    from mmmrhd.datasets.transforms.feature_io import read_feature_array
    local = _dataset(args.split, data_root, None)
    files = _files(local)

    def np_load():
        for path, key, _ in files:
            with open(path, 'rb') as f, np.load(f) as archive:
                archive[key]

    def reader():
        for path, key, kind in files:
            read_feature_array(path, key, f'{kind} feature')

    def passes(dataset):
        return lambda: [dataset[i] for i in range(len(dataset))]

    timers = {'np.load': np_load, 'read_feature_array': reader,
              'dataset local': passes(local)}
    if not args.local_only:
        from mmmrhd.testing.storage import (MemoryBackend,
                                            register_memory_backend)
        register_memory_backend(MEMORY_BACKEND, prefixes='membench')
        MemoryBackend.load_dir(data_root, 'membench://demo')
        timers['dataset backend=local'] = passes(
            _dataset(args.split, data_root, dict(backend='local')))
        timers['dataset in-memory'] = passes(
            _dataset(args.split, 'membench://demo',
                     dict(backend=MEMORY_BACKEND)))
    return timers


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmmrhd.datasets.demo_dataset import ensure_demo_data
    from mmmrhd.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with tempfile.TemporaryDirectory() as tmp:
        data_root = ensure_demo_data(args.data_root
                                     or osp.join(tmp, 'demo'))
        timers = _timers(args, data_root)
        best = {name: float('inf') for name in timers}
        for _ in range(args.repeat):
            for name, fn in timers.items():
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    rows = [['what', 'best pass (ms)', 'ratio']]
    for name, seconds in best.items():
        ref = 'np.load' if not name.startswith('dataset') else 'dataset local'
        rows.append([name, f'{1000 * seconds:.1f}',
                     f'{seconds / best[ref]:.2f}'])
    print(f'{args.split} split of {data_root}, best of {args.repeat}')
    print(AsciiTable(rows).table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
