# Copyright (c) mmmrhd contributors. All rights reserved.
"""Check every annotation and feature file of a config's dataset splits.

    python tools/misc/check_dataset.py CONFIG                 # train split
    python tools/misc/check_dataset.py CONFIG --split val test
    python tools/misc/check_dataset.py CONFIG --split all

Lists ALL problems (one per line), then a summary per split. Exit status: 0
if the data is fine, 2 if there are problems (or the config is unusable:
``error: <message>``), 1 for an internal error. The checks and the rules
are documented in docs/en/user_guides/dataset_prepare.md ("Checking a
dataset"); the logic lives in :mod:`mmmrhd.datasets.checks`.
"""
import argparse
import os.path as osp
import sys
import traceback
from typing import List, Optional

from mmengine.config import Config, DictAction

from mmmrhd.datasets.checks import SPLITS, check_config_data
from mmmrhd.utils.errors import UserError
from mmmrhd.utils.setup_env import register_all_modules


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Check the annotation and feature files of a dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--split',
        nargs='+',
        choices=list(SPLITS) + ['all'],
        default=['train'],
        help='which dataloaders to check (default: train; all = every '
        'split the config has)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=/data/qvh')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--debug', action='store_true', help='show tracebacks')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config} does not exist')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the check; return the exit status."""
    args = parse_args(argv)
    try:
        register_all_modules()
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        splits = (
            [s for s in SPLITS if cfg.get(SPLITS[s], None)]
            if 'all' in args.split else list(dict.fromkeys(args.split)))
        problems = check_config_data(
            cfg, splits, progress=not args.no_progress)
    except UserError as error:
        if args.debug:
            traceback.print_exc()
        print(f'error: {error}', file=sys.stderr)
        return 2
    if problems:
        print(f'error: {problems} data problem(s) found in '
              f'{args.config} ({", ".join(splits)}); see the list above',
              file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
