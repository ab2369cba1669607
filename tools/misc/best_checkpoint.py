# Copyright (c) mmmrhd contributors. All rights reserved.
"""Print the best checkpoint of a training run, as recorded by its
``CheckpointHook(save_best=...)`` in ``<work_dir>/best_checkpoints.json``.

Scripts use it instead of picking the newest ``best_*.pth`` by modification
time (``make demo``)::

    python tools/misc/best_checkpoint.py work_dirs/taskweave_demo \\
        --metric MR-full-mAP
"""
import argparse
from typing import List, Optional

from mmmrhd.engine.hooks.checkpoint_hook import best_checkpoint
from mmmrhd.utils.cli import add_debug_arg, run_main


def main(argv: Optional[List[str]] = None) -> str:
    """Entry point; prints and returns the path."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir', help='the training run\'s work dir')
    parser.add_argument(
        '--metric',
        help='the save_best metric (needed if several were recorded)')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    path = best_checkpoint(args.work_dir, args.metric)
    print(path)
    return path


if __name__ == '__main__':
    run_main(main)
