# Copyright (c) mmmrhd contributors. All rights reserved.
"""Per-process random generator for the random transforms."""
import os
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.dist import get_rank
from torch.utils.data import get_worker_info

__all__ = ['WorkerRNG']


class WorkerRNG:
    """A :class:`numpy.random.Generator` that is distinct in every worker.

    The official datasets draw from Python's global ``random``. Here each
    random transform owns a ``WorkerRNG``; calling it returns a generator
    that is created lazily, the first time it is used in a process, from

    * inside a DataLoader worker: ``get_worker_info().seed`` (PyTorch's
      ``base_seed + worker_id``; ``base_seed`` is drawn from the main
      process's torch RNG for every new iterator, so non-persistent workers
      get fresh streams every epoch, even though MMEngine's
      ``worker_init_fn`` reseeds torch with a per-worker constant);
    * in the main process (``num_workers=0``), without ``seed``: a fresh
      generator on *every call*, seeded by one draw from the global torch
      RNG. All the randomness then flows from the torch state, which
      :class:`~mmmrhd.engine.hooks.RNGStateHook` checkpoints and restores,
      so resumed runs draw the same labels as uninterrupted ones (a stream
      kept in the object would restart on resume);
    * always mixed with the distributed rank, and with ``seed`` if given.

    Runs are thus reproducible under a fixed MMEngine seed and workers and
    ranks never share a stream. With an explicit ``seed`` and no worker, the
    stream persists and depends on ``seed`` (and the rank) only, which is
    what the tests use. Persistent workers keep their stream across epochs,
    so exact resume needs ``persistent_workers=False`` (or no workers).

    Args:
        seed (int, optional): Extra entropy. Defaults to None.
    """

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        # The rank is read in the main process (workers may not see the
        # process group) and travels with the object into the workers.
        self._rank = get_rank()
        self._generator: Optional[np.random.Generator] = None
        self._owner: Optional[Tuple[int, int]] = None

    def _entropy(self) -> Tuple[int, list]:
        info = get_worker_info()
        if info is not None:
            process_seed = int(info.seed)
        else:
            self._rank = get_rank()
            process_seed = 0  # explicit seed, main process
        entropy = [process_seed, self._rank]
        if self.seed is not None:
            entropy.append(int(self.seed))
        return process_seed, entropy

    def __call__(self) -> np.random.Generator:
        """Return this process's generator (created on first use)."""
        if get_worker_info() is None and self.seed is None:
            self._rank = get_rank()
            draw = int(torch.randint(0, 2**62, (), dtype=torch.int64))
            return np.random.default_rng(
                np.random.SeedSequence([draw, self._rank]))
        process_seed, entropy = self._entropy()
        owner = (os.getpid(), process_seed)
        if self._generator is None or owner != self._owner:
            self._generator = np.random.default_rng(
                np.random.SeedSequence(entropy))
            self._owner = owner
        return self._generator

    def __getstate__(self) -> dict:
        # A copy (e.g. sent to a spawned worker) starts a fresh stream.
        return dict(
            seed=self.seed, _rank=self._rank, _generator=None, _owner=None)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(seed={self.seed})'
