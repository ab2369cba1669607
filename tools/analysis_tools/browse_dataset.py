# Copyright (c) mmmrhd contributors. All rights reserved.
"""Plot samples of a config's dataset: ground-truth windows and saliency.

Examples::

    python tools/analysis_tools/browse_dataset.py \
        configs/taskweave/taskweave_demo.py --out-dir work_dirs/browse
    python tools/analysis_tools/browse_dataset.py \
        configs/taskweave/taskweave_qvh.py --split val --max 50 \
        --out-dir work_dirs/browse_qvh

For each of the first ``--max`` samples of ``<split>_dataloader.dataset``
the sample is loaded through the dataset's pipeline (so a sample that
cannot be loaded is found here, with the usual one-line error naming the
file), and :class:`~mmmrhd.visualization.MRHDVisualizer` draws the query's
ground truth over the video's time axis: the relevant windows (green bars)
and the saliency curve, the target of every clip (the annotators' scores
summed at the relevant clips, the dataset's ``saliency_agg``, 0 elsewhere;
TVSum: its rescaled label).
``<out-dir>/<index>_<vid>_<qid>.png`` is written per sample.

Errors of the input (config, data) are one line, ``error: <message>``,
and exit status 2 (``--debug`` or ``MMMRHD_DEBUG=1`` shows the traceback).
"""
import argparse
import os.path as osp
import re
import sys
from typing import List, Optional

import numpy as np
from mmengine.config import Config

from mmmrhd.datasets.checks import SPLITS
from mmmrhd.registry import DATASETS, build_part
from mmmrhd.utils.cli import CfgOptionsAction, add_debug_arg, run_main
from mmmrhd.utils.errors import ConfigError
from mmmrhd.utils.setup_env import register_all_modules
from mmmrhd.visualization import MRHDVisualizer


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Plot samples of a config's dataset (ground-truth "
        'windows and saliency)')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--split', choices=list(SPLITS), default='train',
        help='which dataloader (default: train)')
    parser.add_argument(
        '--out-dir',
        help='where the PNG files go (default: '
        'work_dirs/browse_<config name>/<split>)')
    parser.add_argument(
        '--max', type=int, default=20,
        help='samples plotted, from the first (default: 20)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=data/qvh')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config} does not exist')
    if args.max < 1:
        parser.error(f'--max must be >= 1, got {args.max}')
    return args


def sample_record(info: dict, num_clips: int) -> dict:
    """What :meth:`MRHDVisualizer.draw_mrhd` draws for one data info.

    Args:
        info (dict): The dataset's data info (``query``, ``duration``,
            ``clip_len``, ``gt_windows``, ``saliency_clip_ids``,
            ``saliency_agg``).
        num_clips (int): Video feature clips the pipeline loaded.

    Returns:
        dict: A record without predicted moments: ``pred_saliency_scores``
        is the saliency target of every clip (``saliency_agg`` at the
        relevant clips, 0 elsewhere; clips beyond the features are kept),
        ``ann`` holds the GT windows (``relevant_windows``).
    """
    ids = np.asarray(info.get('saliency_clip_ids', []), dtype=np.int64)
    curve = np.zeros(max(num_clips, int(ids.max()) + 1 if ids.size else 0))
    if ids.size:
        curve[ids] = info['saliency_agg']
    ann = {}
    if info.get('gt_windows') is not None:
        ann['relevant_windows'] = np.asarray(info['gt_windows']).tolist()
    return dict(
        query=info['query'],
        duration=float(info['duration']),
        pred_relevant_windows=[],
        pred_saliency_scores=curve.tolist(),
        ann=ann)


def file_name(index: int, info: dict) -> str:
    """``<index>_<vid>_<qid>.png`` with path-safe characters only."""
    safe = re.sub(r'[^A-Za-z0-9_.-]+', '-', f'{info["vid"]}_{info["qid"]}')
    return f'{index:05d}_{safe}.png'


def main(argv: Optional[List[str]] = None) -> int:
    """Plot the samples; returns the exit status."""
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(SPLITS[args.split], None)
    if not loader or not loader.get('dataset'):
        raise ConfigError(f'{args.config} has no {SPLITS[args.split]}.dataset')
    dataset = build_part(DATASETS, loader['dataset'])
    out_dir = args.out_dir or osp.join(
        'work_dirs',
        'browse_' + osp.splitext(osp.basename(args.config))[0], args.split)
    visualizer = MRHDVisualizer(name=f'browse_dataset_{id(dataset)}')
    count = min(args.max, len(dataset))
    for index in range(count):
        info = dataset.get_data_info(index)
        sample = dataset[index]  # loads the features: bad files show here
        num_clips = int(sample['inputs']['video_feat'].shape[0])
        record = sample_record(info, num_clips)
        image = visualizer.draw_mrhd(
            record, clip_len=info['clip_len'],
            notice=(f'{args.split} sample {index}: vid {info["vid"]}, qid '
                    f'{info["qid"]}, {num_clips} clips of '
                    f'{info["clip_len"]:g} s; curve: saliency target, green:'
                    ' GT windows'))
        visualizer.save_png(image, osp.join(out_dir, file_name(index, info)))
    print(f'{count} of {len(dataset)} {args.split} samples plotted to '
          f'{out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
