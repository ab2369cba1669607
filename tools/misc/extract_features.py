# Copyright (c) mmmrhd contributors. All rights reserved.
"""Extract video (and query) features from raw videos, like the released
QVHighlights / Charades-STA files.

    python tools/misc/extract_features.py CONFIG --video-root DIR \\
        (--video-list FILE | --ann-file FILE) --out-dir DIR \\
        [--text] [--skip-existing] [--launcher pytorch|slurm]

Distributed (one process per GPU, or CPU processes with gloo)::

    torchrun --nproc_per_node=2 tools/misc/extract_features.py CONFIG ... \\
        --launcher pytorch

Each rank extracts every ``world_size``-th video and writes its own files.
Videos that are missing, empty, undecodable, audio-only or too short are
collected and reported in one list at the end (also in
``extraction_meta.json``); the exit status is then 1. Errors in the user's
input (config, weights, lists) print one line and exit with status 2.
"""
import argparse
import logging
import os
import os.path as osp
import sys
import time
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_gather_object, get_dist_info, init_dist
from mmengine.logging import MMLogger

from mmmrhd.registry import MODELS
from mmmrhd.utils import prepare_distributed, register_all_modules
from mmmrhd.utils.errors import UserError
from mmmrhd.utils.feature_extraction import (VIDEO_EXTENSIONS,
                                             collect_inputs,
                                             environment_versions,
                                             extract_queries, extract_videos,
                                             write_meta)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Extract mmmrhd video/text features from raw videos')
    parser.add_argument('config', help='extraction config (an `extractor`)')
    parser.add_argument('--video-root', required=True,
                        help='directory of the videos')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--video-list',
                       help='text file, one video file name or id per line')
    group.add_argument('--ann-file',
                       help='jsonl annotation (vid, qid, query per line)')
    parser.add_argument('--out-dir', required=True, help='output directory')
    parser.add_argument('--text', action='store_true',
                        help='also extract the queries of --ann-file')
    parser.add_argument('--skip-existing', action='store_true',
                        help='skip videos/queries whose files exist (resume)')
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. '
                        'extractor.streams.0.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.text and args.ann_file is None:
        parser.error('--text needs --ann-file (the queries)')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def init_distributed(cfg: Config, launcher: str) -> None:
    """Initialise ``torch.distributed`` (gloo on CPU, as training)."""
    if launcher == 'none':
        return
    cfg.launcher = launcher
    if torch.cuda.is_available():
        init_dist(launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
    else:
        prepare_distributed(cfg)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the extraction; returns the exit status."""
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.config):
        raise UserError(f'config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'extractor' not in cfg:
        raise UserError(f'{args.config} has no `extractor` entry')
    init_distributed(cfg, args.launcher)
    rank, world_size = get_dist_info()
    os.makedirs(args.out_dir, exist_ok=True)
    logger = MMLogger.get_instance(
        f'mmmrhd_extract_{time.time_ns()}',
        log_file=osp.join(args.out_dir, f'extract_rank{rank}.log'),
        distributed=world_size > 1)
    try:
        return run(args, cfg, logger, rank, world_size)
    finally:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                logger.removeHandler(handler)
        if world_size > 1:
            torch.distributed.destroy_process_group()


def run(args: argparse.Namespace, cfg: Config, logger: MMLogger, rank: int,
        world_size: int) -> int:
    """Extract this rank's share; rank 0 writes the provenance file."""
    videos, queries = collect_inputs(
        args.video_root, args.video_list, args.ann_file,
        cfg.get('video_extensions', VIDEO_EXTENSIONS))
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and world_size > 1:
        device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
    # Same seed on every rank: randomly initialised parts (pipeline checks)
    # get the same weights everywhere; loaded weights are unaffected.
    torch.manual_seed(cfg.get('seed', 0))
    extractor_cfg = dict(cfg.extractor)
    extractor_cfg.setdefault('_scope_', 'mmmrhd')
    extractor = MODELS.build(extractor_cfg).to(device).eval()
    if not args.text:
        queries = []
    logger.info(f'rank {rank}/{world_size}: {len(videos)} videos, '
                f'{len(queries)} queries, streams '
                f'{[s.name for s in extractor.streams]}, device {device}')
    for stream in extractor.stream_modules:
        if not (getattr(stream, 'pretrained', None)
                or getattr(stream.backbone, 'pretrained', None)):
            logger.warning(f'stream {stream.spec.name} has RANDOM weights: '
                           'the features are a pipeline check only')

    video_stats = extract_videos(extractor, videos, args.out_dir,
                                 args.skip_existing, logger, rank,
                                 world_size)
    text_stats = extract_queries(extractor, queries, args.out_dir,
                                 args.skip_existing, logger, rank,
                                 world_size) if queries else dict(
                                     done=0, skipped=0)
    stats = all_gather_object(dict(video=video_stats, text=text_stats))
    if rank != 0:
        return 0
    failed = sorted(f for s in stats for f in s['video']['failed'])
    meta = dict(
        recipe=cfg.get('recipe', osp.basename(args.config)),
        config=args.config,
        extractor=cfg.extractor.to_dict(),
        streams=[s.to_dict() for s in extractor.streams],
        storage_dtype=extractor.storage_dtype,
        command=' '.join(sys.argv),
        world_size=world_size,
        device=device,
        versions=environment_versions(),
        videos=dict(
            listed=len(videos),
            extracted=sum(s['video']['done'] for s in stats),
            skipped_existing=sum(s['video']['skipped'] for s in stats),
            failed=len(failed)),
        queries=dict(
            extracted=sum(s['text']['done'] for s in stats),
            skipped_existing=sum(s['text']['skipped'] for s in stats)),
        failed_videos=[dict(vid=v, path=p, reason=r) for v, p, r in failed])
    path = write_meta(args.out_dir, meta)
    logger.info(f'videos: {meta["videos"]}; queries: {meta["queries"]}; '
                f'provenance: {path}')
    if failed:
        lines = '\n'.join(f'  {v}: {r}' for v, _, r in failed)
        logger.warning(f'{len(failed)} of {len(videos)} videos failed '
                       f'(listed in {path}):\n{lines}')
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except UserError as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(2)
