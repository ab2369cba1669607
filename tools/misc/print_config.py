# Copyright (c) mmmrhd contributors. All rights reserved.
"""Print a config with its ``_base_`` files and ``--cfg-options`` merged.

The OpenMMLab ``tools/misc/print_config.py``::

    python tools/misc/print_config.py CONFIG [--cfg-options KEY=VALUE ...] \\
        [--save-path merged.py]

The printed text is the complete config that ``tools/train.py`` would build
the runner from (before the command-line options of ``train.py`` itself);
``--save-path`` also writes it to a file (``.py``, ``.json`` or ``.yaml``)
that loads on its own, without the ``_base_`` files.
"""
import argparse
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from mmmrhd.utils.cli import (add_cfg_options_arg, add_debug_arg,
                              load_config, parse_config_args, run_main)
from mmmrhd.utils.errors import ConfigError

SAVE_FORMATS = ('.py', '.json', '.yaml', '.yml')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Print the fully merged config')
    parser.add_argument('config', help='config file path')
    add_cfg_options_arg(parser, 'train_cfg.max_epochs=10')
    parser.add_argument(
        '--save-path',
        help=f'also write the merged config here ({", ".join(SAVE_FORMATS)})')
    add_debug_arg(parser)
    return parse_config_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> Config:
    """Entry point; prints (and saves) the merged config and returns it."""
    args = parse_args(argv)
    if args.save_path is not None and not args.save_path.endswith(
            SAVE_FORMATS):
        raise ConfigError(f'--save-path {args.save_path}: the file name must '
                          f'end in one of {", ".join(SAVE_FORMATS)}')
    cfg = load_config(args.config, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path is not None:
        directory = osp.dirname(osp.abspath(args.save_path))
        if not osp.isdir(directory):
            raise ConfigError(f'--save-path {args.save_path}: directory '
                              f'{directory} does not exist')
        cfg.dump(args.save_path)
        print(f'Saved the merged config to {args.save_path}')
    return cfg


if __name__ == '__main__':
    run_main(main)
