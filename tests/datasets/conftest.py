# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures writing small MR/HD datasets into ``tmp_path``."""
import json
import os
import os.path as osp
from typing import Dict, Iterable, Optional, Union

import numpy as np
import pytest


class DataFactory:
    """Writes annotation and feature files under one root directory.

    Feature layout (official, with short directory names)::

        <root>/sf/<vid>.npz, <root>/clip/<vid>.npz    'features' (L, D)
        <root>/text/qid<qid>.npz                      'last_hidden_state'
                                                      (T, D), 'pooler_output'
    """

    def __init__(self, root: str, seed: int = 0) -> None:
        self.root = root
        self.rng = np.random.default_rng(seed)

    def path(self, *parts: str) -> str:
        return osp.join(self.root, *parts)

    def jsonl(self, name: str, lines: Iterable[Union[dict, str]]) -> str:
        """Write records (dicts) or raw lines (str); return the path."""
        path = self.path(name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            for line in lines:
                f.write((line if isinstance(line, str) else json.dumps(line))
                        + '\n')
        return path

    def npz(self, rel: str, **arrays: np.ndarray) -> str:
        path = self.path(rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        np.savez(path, **arrays)
        return path

    def npy(self, rel: str, array: np.ndarray) -> str:
        path = self.path(rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        np.save(path, array)
        return path

    def randn(self, *shape: int) -> np.ndarray:
        return self.rng.normal(size=shape).astype(np.float32)

    def video(self, vid: str, lengths: Dict[str, int],
              dims: Optional[Dict[str, int]] = None) -> Dict[str, np.ndarray]:
        """Write one ``features`` array per stream; return them."""
        out = {}
        for stream, length in lengths.items():
            out[stream] = self.randn(length, (dims or {}).get(stream, 6))
            self.npz(f'{stream}/{vid}.npz', features=out[stream])
        return out

    def text(self, qid, length: int = 5, dim: int = 4,
             stream: str = 'text') -> np.ndarray:
        """Write ``qid<qid>.npz`` with both official keys; return tokens."""
        arr = self.randn(length, dim)
        self.npz(f'{stream}/qid{qid}.npz', last_hidden_state=arr,
                 pooler_output=arr[0])
        return arr

    @staticmethod
    def record(qid=1, vid='v1', duration=20, windows=((2, 6), ),
               clip_ids=(1, 2), scores=((1, 2, 3), (4, 4, 4)), **extra):
        """A QVHighlights-schema record; ``None`` leaves a field out."""
        rec = dict(qid=qid, query=f'query {qid}', duration=duration, vid=vid)
        if windows is not None:
            rec['relevant_windows'] = [list(w) for w in windows]
        if clip_ids is not None:
            rec['relevant_clip_ids'] = list(clip_ids)
        if scores is not None:
            rec['saliency_scores'] = [list(s) for s in scores]
        rec.update(extra)
        return rec

    @staticmethod
    def prefix(video=('sf', 'clip'), text='text') -> dict:
        """``data_prefix`` of this layout."""
        return dict(video=list(video), text=text)


@pytest.fixture
def factory(tmp_path) -> DataFactory:
    """A :class:`DataFactory` rooted at ``tmp_path``."""
    return DataFactory(str(tmp_path))
