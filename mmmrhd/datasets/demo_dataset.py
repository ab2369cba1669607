# Copyright (c) mmmrhd contributors. All rights reserved.
"""The demo dataset: generated on first use, safe under distributed runs."""
import json
import os
import os.path as osp
import time
from typing import Dict, Optional

from mmmrhd.registry import DATASETS
from .demo import DEMO_META_FILE, DEMO_VERSION, generate_demo_data
from .qvhighlights import QVHighlightsDataset

__all__ = ['ensure_demo_data', 'DemoQVHighlightsDataset']


def _check_meta(root: str, expected: Dict[str, int]) -> None:
    with open(osp.join(root, DEMO_META_FILE)) as f:
        meta = json.load(f)
    found = {k: meta.get(k) for k in expected}
    if found != expected or meta.get('version') != DEMO_VERSION:
        raise ValueError(
            f'{root} holds demo data generated with {found} (version '
            f'{meta.get("version")}), not the requested {expected} (version '
            f'{DEMO_VERSION}); delete it or point data_root elsewhere')


def ensure_demo_data(root: str,
                     seed: int = 0,
                     num_train: int = 600,
                     num_val: int = 150,
                     timeout: float = 600.0) -> str:
    """Generate the demo data into ``root`` unless it is already there.

    Safe under distributed training: the process with local rank 0 (env
    ``LOCAL_RANK``, else the global rank) generates; the others wait until
    ``root/demo_meta.json`` appears.

    Args:
        root (str): Dataset directory.
        seed (int): Seed. Defaults to 0.
        num_train (int): Training queries. Defaults to 600.
        num_val (int): Validation queries. Defaults to 150.
        timeout (float): Seconds a non-generating process waits.

    Returns:
        str: ``root``.
    """
    from mmengine.dist import get_rank
    expected = dict(seed=seed, num_train=num_train, num_val=num_val)
    marker = osp.join(root, DEMO_META_FILE)
    if not osp.isfile(marker):
        if osp.isdir(root) and os.listdir(root):
            raise FileExistsError(
                f'{root} exists but holds no demo data ({DEMO_META_FILE} is '
                'missing); delete it or point data_root elsewhere')
        if int(os.environ.get('LOCAL_RANK', get_rank())) == 0:
            generate_demo_data(root, **expected, overwrite=osp.isdir(root))
        else:
            deadline = time.monotonic() + timeout
            while not osp.isfile(marker):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f'waited {timeout} s for another process to '
                        f'generate the demo data in {root}')
                time.sleep(0.5)
    _check_meta(root, expected)
    return root


@DATASETS.register_module()
class DemoQVHighlightsDataset(QVHighlightsDataset):
    """:class:`QVHighlightsDataset` on the generated demo data.

    On construction, the demo data is generated into ``data_root`` unless it
    is already there (see :func:`ensure_demo_data`; safe under distributed
    training). An existing ``data_root`` generated with other settings is an
    error, never silently reused.

    Args:
        ann_file (str): ``'highlight_train_release.jsonl'`` or
            ``'highlight_val_release.jsonl'``.
        data_root (str): Demo data directory. Defaults to ``'data/demo'``.
        data_prefix (dict, optional): Defaults to the demo layout,
            ``dict(video=['slowfast_features', 'clip_features'],
            text='clip_text_features')``.
        seed (int): Generator seed. Defaults to 0.
        num_train (int): Generated training queries. Defaults to 600.
        num_val (int): Generated validation queries. Defaults to 150.
        auto_generate (bool): Generate missing data. Defaults to True.
        **kwargs: See :class:`QVHighlightsDataset`.
    """

    METAINFO: dict = dict(dataset_name='QVHighlights-demo')

    def __init__(self,
                 ann_file: str,
                 data_root: str = 'data/demo',
                 data_prefix: Optional[dict] = None,
                 seed: int = 0,
                 num_train: int = 600,
                 num_val: int = 150,
                 auto_generate: bool = True,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(
                video=['slowfast_features', 'clip_features'],
                text='clip_text_features')
        if auto_generate:
            ensure_demo_data(data_root, seed, num_train, num_val)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)
