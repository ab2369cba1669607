# Copyright (c) mmmrhd contributors. All rights reserved.
"""What ``tools/train.py`` and ``tools/test.py`` share.

The OpenMMLab command-line contract: a config path, ``--work-dir``,
``--cfg-options``, ``--launcher`` / ``--local-rank``; the config is loaded,
the options are applied (command line > config > default) and a Runner (or
the config's ``runner_type``) is built from it.
"""
import argparse
import os
import os.path as osp
from typing import Callable, List, Optional

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmmrhd.registry import RUNNERS
from .dist import prepare_distributed
from .setup_env import register_all_modules


def add_launch_args(parser: argparse.ArgumentParser,
                    cfg_options_example: str) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        cfg_options_example (str): An example for the ``--cfg-options``
            help text, e.g. ``'train_cfg.max_epochs=10'``.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config entries, e.g. {cfg_options_example}; lists '
        'as key="[a,b]"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank, torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv``, check that the config exists, export ``LOCAL_RANK``.

    Args:
        parser (argparse.ArgumentParser): Parser with a ``config``
            positional.
        argv (list[str], optional): Defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config} does not exist')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_common_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``--cfg-options``, ``--launcher`` and ``--work-dir`` to ``cfg``.

    Without ``--work-dir`` and without ``work_dir`` in the config, the work
    dir is ``./work_dirs/<config file name without .py>``.

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): Parsed arguments (``config``,
            ``cfg_options``, ``launcher``, ``work_dir``).

    Returns:
        Config: The same, modified config.
    """
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner_from_args(
        args: argparse.Namespace,
        merge_args: Callable[[Config, argparse.Namespace], Config]) -> Runner:
    """Load ``args.config``, apply the tool's options, build the runner.

    Every mmmrhd module is imported first (this also installs the safe
    checkpoint loaders); the config's ``default_scope`` selects the mmmrhd
    registries. ``--launcher pytorch`` on a CPU-only machine is prepared by
    :func:`prepare_distributed`.

    Args:
        args (argparse.Namespace): Parsed arguments.
        merge_args (Callable): The tool's ``merge_args(cfg, args)``.

    Returns:
        Runner: ``Runner.from_cfg(cfg)``, or ``RUNNERS.build(cfg)`` when the
        config sets ``runner_type``.
    """
    register_all_modules(init_default_scope=False)
    cfg = prepare_distributed(merge_args(Config.fromfile(args.config), args))
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
