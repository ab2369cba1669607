# Copyright (c) mmmrhd contributors. All rights reserved.
"""Distributed training on CPU-only machines."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def prepare_distributed(cfg: Config) -> Config:
    """Make ``--launcher pytorch`` work without a GPU.

    MMEngine 0.10.7 initialises ``torch.distributed`` for the ``pytorch``
    launcher with ``torch.cuda.set_device(LOCAL_RANK)`` first
    (``mmengine/dist/utils.py`` ``_init_dist_pytorch``), which fails on a
    CPU-only machine, and its default wrapper passes ``device_ids`` that DDP
    rejects for CPU modules. When the launcher is ``pytorch`` and CUDA is not
    available, this

    * switches ``env_cfg.dist_cfg.backend`` from ``nccl`` to ``gloo``;
    * initialises the process group itself from the torchrun environment
      (``env://``), so the Runner finds it initialised and skips MMEngine's
      GPU-only set-up;
    * wraps the model in :class:`MRHDDistributedDataParallel` (which drops
      ``device_ids`` on CPU) unless the config names a wrapper.

    With CUDA, or with ``launcher='none'``, the config is returned unchanged.

    Args:
        cfg (Config): The merged training/testing config (``cfg.launcher``
            set).

    Returns:
        Config: The same config.

    Raises:
        RuntimeError: ``slurm``/``mpi`` launchers without a GPU (MMEngine
            binds them to GPUs; use torchrun on CPU).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs with MMEngine 0.10; on a '
            'CPU-only machine use tools/dist_train.sh (torchrun, '
            '--launcher pytorch)')
    env_cfg = cfg.setdefault('env_cfg', dict())
    dist_cfg = env_cfg.setdefault('dist_cfg', dict())
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if var not in os.environ:
                raise RuntimeError(
                    f'--launcher pytorch: environment variable {var} is not '
                    'set; start with torchrun (tools/dist_train.sh)')
        torch_dist.init_process_group(
            backend=dist_cfg['backend'],
            **{k: v
               for k, v in dist_cfg.items() if k != 'backend'})
    if cfg.get('model_wrapper_cfg', None) is None:
        # The Runner looks wrappers up in MMEngine's root registry
        # (``MODEL_WRAPPERS.get``), which needs the scope prefix.
        cfg.model_wrapper_cfg = dict(
            type='mmmrhd.MRHDDistributedDataParallel',
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg
