# Copyright (c) mmmrhd contributors. All rights reserved.
"""Evaluate a checkpoint on a config's test split.

Follows the OpenMMLab ``tools/test.py`` argument contract, e.g.::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --dump work_dirs/x/test_preds.jsonl

``--dump`` adds ``dict(type='DumpSubmission', out_file=PATH)`` to the test
evaluator, which writes the predictions in the official submission format.
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, ConfigDict

from mmmrhd.engine.hooks import add_show_dir_hook
from mmmrhd.utils.cli import (add_launch_args, apply_common_args,
                              build_runner_from_args, parse_tool_args,
                              run_main)
from mmmrhd.utils.errors import ConfigError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description='Test an mmmrhd model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument(
        '--work-dir',
        help='directory for logs and metrics; defaults to the config\'s '
        'work_dir, else ./work_dirs/<config name>')
    parser.add_argument(
        '--dump',
        type=str,
        help='write the predictions (official submission jsonl) to this file')
    parser.add_argument(
        '--show-dir',
        help='write a plot (PNG) of every prediction into this directory')
    add_launch_args(parser, 'test_dataloader.batch_size=8')
    return parse_tool_args(parser, argv)


def add_dump_metric(cfg: Config, out_file: str) -> None:
    """Append ``DumpSubmission(out_file)`` to ``cfg.test_evaluator``.

    A single metric dict becomes a list; an ``Evaluator`` dict (with a
    ``metrics`` key) gets the metric appended to its ``metrics``.

    Args:
        cfg (Config): Config with a ``test_evaluator``.
        out_file (str): Where ``DumpSubmission`` writes the predictions.

    Raises:
        ConfigError: If the config has no ``test_evaluator``.
    """
    dump_metric = ConfigDict(type='DumpSubmission', out_file=out_file)
    evaluator = cfg.get('test_evaluator', None)
    if evaluator is None:
        raise ConfigError('--dump needs a test_evaluator in the config')
    if isinstance(evaluator, (list, tuple)):
        cfg.test_evaluator = [*evaluator, dump_metric]
    elif isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        if isinstance(metrics, dict):
            metrics = [metrics]
        evaluator['metrics'] = [*metrics, dump_metric]
    else:
        cfg.test_evaluator = [evaluator, dump_metric]


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to ``cfg`` (CLI > config > default).

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): Output of :func:`parse_args`.

    Returns:
        Config: The same, modified config.
    """
    apply_common_args(cfg, args)
    cfg.load_from = args.checkpoint
    if args.dump is not None:
        add_dump_metric(cfg, args.dump)
    if args.show_dir is not None:
        add_show_dir_hook(cfg, args.show_dir)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    build_runner_from_args(parse_args(argv), merge_args).test()


if __name__ == '__main__':
    run_main(main)
