# Copyright (c) mmmrhd contributors. All rights reserved.
"""Train a moment retrieval / highlight detection model from a config.

Follows the OpenMMLab ``tools/train.py`` argument contract (mmaction2,
mmpretrain), e.g.::

    python tools/train.py configs/<model>/<config>.py --work-dir work_dirs/x
    python tools/train.py CONFIG --resume            # latest ckpt in work_dir
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
    python tools/train.py CONFIG --cfg-options train_cfg.max_epochs=10
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import Config
from mmengine.device import get_device

from mmmrhd.utils.cli import (add_launch_args, apply_common_args,
                              build_runner_from_args, parse_tool_args,
                              run_main)

# Devices on which mmengine's AmpOptimWrapper runs (it asserts otherwise).
AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description='Train an mmmrhd model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='directory for logs and checkpoints; defaults to the config\'s '
        'work_dir, else ./work_dirs/<config name>')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume training: without a value, from the latest checkpoint '
        'in the work dir; with a value, from that checkpoint')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (AmpOptimWrapper, dynamic loss '
        'scale); needs a GPU')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual / base batch size '
        '(needs auto_scale_lr.base_batch_size in the config)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='give each distributed rank a different seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='make cuDNN deterministic (slower)')
    parser.add_argument(
        '--check-data',
        action='store_true',
        help='first check every annotation and feature file of the train '
        'and val splits (as tools/misc/check_dataset.py); stop if any is bad')
    add_launch_args(parser,
                    'train_cfg.max_epochs=10 optim_wrapper.optimizer.lr=2e-4')
    return parse_tool_args(parser, argv)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to ``cfg`` (CLI > config > default).

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): Output of :func:`parse_args`.

    Returns:
        Config: The same, modified config.

    Raises:
        SystemExit: ``--amp`` on a machine without a supported GPU.
        KeyError: ``--amp`` without an ``optim_wrapper`` in the config.
        ValueError: ``--amp`` with an unknown optim wrapper type, or
            ``--auto-scale-lr`` without ``auto_scale_lr.base_batch_size``.
        DataError: ``--check-data`` found bad data.
    """
    apply_common_args(cfg, args)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.amp:
        device = get_device()
        if device not in AMP_DEVICES:
            sys.exit(f'error: --amp needs a GPU ({"/".join(AMP_DEVICES)}) '
                     f'but the available device is "{device}"; drop --amp.')
        if cfg.get('optim_wrapper', None) is None:
            raise KeyError(f'--amp needs an optim_wrapper in {args.config}')
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(
                f'--amp only switches OptimWrapper to AmpOptimWrapper, but '
                f'{args.config} uses optim_wrapper.type={wrapper_type!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        scale_cfg = cfg.get('auto_scale_lr', None)
        if not scale_cfg or 'base_batch_size' not in scale_cfg:
            raise ValueError(
                f'--auto-scale-lr needs auto_scale_lr=dict('
                f'base_batch_size=...) in {args.config}')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    randomness = cfg.get('randomness', None) or dict()
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.check_data:
        from mmmrhd.datasets.checks import check_training_data
        check_training_data(cfg)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    build_runner_from_args(parse_args(argv), merge_args).train()


if __name__ == '__main__':
    run_main(main)
