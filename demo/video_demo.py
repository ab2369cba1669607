# Copyright (c) mmmrhd contributors. All rights reserved.
"""Find the moments of a sentence in a video: predictions, plot, HTML page.

Real use (real backbone weights in the extractor config, a trained
checkpoint)::

    python demo/video_demo.py my_video.mp4 "a dog catches a frisbee" \\
        --config configs/taskweave/taskweave_qvh.py \\
        --checkpoint taskweave_qvh.pth --extractor my_extractor.py \\
        --out-dir work_dirs/my_video

Pipeline check (``make demo-video``; nothing to download)::

    python demo/video_demo.py work_dirs/demo_video/demo.mp4 "a query" \\
        --generate --extractor tiny \\
        --config configs/taskweave/taskweave_demo.py --checkpoint auto \\
        --out-dir work_dirs/demo_video

``--extractor tiny`` is a randomly initialised small SlowFast + CLIP
extractor (:func:`mmmrhd.testing.extractor.tiny_extractor_cfg` with the
demo data's widths, see :func:`demo_extractor_cfg`);
``--checkpoint auto`` takes the newest ``best_*.pth`` of ``make demo``
(``work_dirs/taskweave_demo``) when its feature layout fits the extractor,
otherwise a randomly initialised detector saved to a temporary checkpoint
(``--checkpoint random`` forces that). With random backbones or a random
detector the output is labelled as a pipeline check: the moments mean
nothing.

Writes into ``--out-dir``: ``predictions.json`` (the submission records and
how they were made), ``<vid>_<qid>.png`` per query and ``<vid>.html``.
"""
import argparse
import copy
import glob
import json
import os
import os.path as osp
import sys
import tempfile
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config

from mmmrhd.utils.errors import UserError

DEMO_WORK_DIR = osp.join('work_dirs', 'taskweave_demo')
PIPELINE_CHECK = ('PIPELINE CHECK, NOT MEANINGFUL PREDICTIONS: {why}. '
                  'The moments and scores below only show that decoding, '
                  'feature extraction, inference and visualisation run '
                  'end to end.')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Moment retrieval + highlight detection on a video')
    parser.add_argument('video', help='video file')
    parser.add_argument('query', nargs='+', help='one or more sentences')
    parser.add_argument('--config', required=True, help='detector config')
    parser.add_argument(
        '--checkpoint',
        required=True,
        help="detector checkpoint; 'auto' = the newest best_*.pth of "
        f"{DEMO_WORK_DIR} if it fits, else 'random' (a randomly initialised "
        'detector: pipeline check only)')
    parser.add_argument(
        '--extractor',
        default='tiny',
        help="extractor: a config file defining `extractor = dict(...)`, or "
        "'tiny' (random small backbones: pipeline check only)")
    parser.add_argument('--out-dir', default=osp.join('work_dirs',
                                                      'demo_video'))
    parser.add_argument(
        '--generate',
        action='store_true',
        help='write a short synthetic video to VIDEO first (PyAV encoder) '
        'if it does not exist')
    parser.add_argument('--seconds', type=float, default=12.0,
                        help='length of the generated video (default 12)')
    parser.add_argument('--stride', type=int, help='sliding-window stride '
                        '(clips); default half the model length')
    parser.add_argument('--window-size', type=int, help='clips per window; '
                        'default the config\'s max_v_l')
    parser.add_argument('--embed-video', action='store_true',
                        help='embed the video in the HTML page')
    parser.add_argument('--device', default=None, help="e.g. 'cpu'")
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random backbones / detector')
    return parser.parse_args(argv)


def demo_extractor_cfg() -> dict:
    """The tiny random extractor with the demo data's widths.

    :func:`~mmmrhd.testing.extractor.tiny_extractor_cfg` (SlowFast + CLIP
    + CLIP text, random weights, 64-pixel frames) with its widths set to
    those of the demo data (``mmmrhd/datasets/demo.py``): slowfast 64
    (``SlowFastR50`` slow 32 + fast 32: width_per_group 1, beta_inv 1), clip
    32, text tokens 32. So ``make demo``'s trained detector fits it.
    """
    from mmmrhd.testing.extractor import tiny_extractor_cfg
    cfg = tiny_extractor_cfg()
    cfg['streams'][0]['backbone'].update(width_per_group=1, beta_inv=1)
    cfg['streams'][1]['backbone']['vision_cfg']['output_dim'] = 32
    return cfg


def build_extractor(spec: str, seed: int) -> Tuple[object, Optional[str]]:
    """The extractor and, when its weights are random, why."""
    from mmmrhd.registry import MODELS, build_part
    torch.manual_seed(seed)
    if spec == 'tiny':
        return (build_part(MODELS, demo_extractor_cfg()),
                'randomly initialised small backbones (--extractor tiny)')
    if not osp.isfile(spec):
        raise UserError(f"--extractor: no such config file {spec!r} (or "
                        "use 'tiny')")
    cfg = Config.fromfile(spec)
    if 'extractor' not in cfg:
        raise UserError(f'--extractor {spec}: the config defines no '
                        '`extractor`')
    return build_part(MODELS, cfg.extractor), None


def _video_layout(extractor) -> List[dict]:
    return [dict(name=s.name, dim=int(s.dim)) for s in extractor.streams]


def fit_config(cfg: Config, extractor) -> Config:
    """The detector config with the extractor's feature layout.

    The video projection gets the extractor's streams (+ the 2 TEF columns
    when the test pipeline appends them) and the text projection its text
    width, so a random detector can run on any extractor.
    """
    cfg = copy.deepcopy(cfg)
    streams = _video_layout(extractor)
    pipeline = cfg.test_dataloader.dataset.pipeline
    if any(t.get('type') == 'AppendTEF' for t in pipeline):
        streams.append(dict(name='tef', dim=2))
    cfg.model.video_proj.streams = streams
    text_dim = getattr(extractor, 'text_dim', None)
    if text_dim is not None:
        name = cfg.model.text_proj.streams[0]['name']
        cfg.model.text_proj.streams = [dict(name=name, dim=int(text_dim))]
    return cfg


def checkpoint_fits(path: str, cfg: Config) -> bool:
    """Whether a checkpoint loads strictly into the config's model."""
    from mmengine.runner.checkpoint import load_checkpoint
    from mmmrhd.registry import MODELS, build_part
    model = build_part(MODELS, cfg.model)
    try:
        load_checkpoint(model, path, map_location='cpu', strict=True,
                        logger='silent')
    except (RuntimeError, KeyError, ValueError):
        return False
    return True


def random_checkpoint(cfg: Config, seed: int, out_dir: str) -> str:
    """Save a randomly initialised detector of ``cfg`` and return the file."""
    from mmmrhd.registry import MODELS, build_part
    torch.manual_seed(seed)
    model = build_part(MODELS, cfg.model)
    fd, path = tempfile.mkstemp(prefix='random_detector_', suffix='.pth',
                                dir=out_dir)
    os.close(fd)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(note='randomly initialised (pipeline check)')),
               path)
    return path


def resolve_checkpoint(arg: str, cfg: Config, extractor, seed: int,
                       out_dir: str) -> Tuple[Config, str, Optional[str]]:
    """``(config, checkpoint, why it is random or None)``."""
    if arg not in ('auto', 'random'):
        if not osp.isfile(arg):
            raise UserError(f'--checkpoint: file not found: {arg}')
        return cfg, arg, None
    if arg == 'auto':
        found = sorted(
            glob.glob(osp.join(DEMO_WORK_DIR, 'best_*.pth')),
            key=osp.getmtime)
        if found and checkpoint_fits(found[-1], cfg):
            print(f'checkpoint: {found[-1]} (trained by `make demo`)')
            return cfg, found[-1], None
        reason = ('no demo-trained checkpoint in ' + DEMO_WORK_DIR
                  if not found else
                  f'{found[-1]} does not fit the extractor\'s feature layout')
        print(f'checkpoint: {reason}; using a randomly initialised detector')
    cfg = fit_config(cfg, extractor)
    path = random_checkpoint(cfg, seed, out_dir)
    return cfg, path, 'a randomly initialised detector'


def generate_video(path: str, seconds: float, seed: int) -> None:
    """A short synthetic video (moving colour gradients), PyAV encoder."""
    from mmmrhd.testing.video import make_test_video
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fps = 15
    make_test_video(path, fps=fps, num_frames=int(round(seconds * fps)),
                    width=160, height=120, seed=seed)
    print(f'generated {path} ({seconds:g} s, {fps} fps, PyAV encoder)')


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        return run(args)
    except (UserError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Run the demo with parsed arguments."""
    from mmmrhd.apis import MRHDInferencer
    from mmmrhd.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    try:
        import av  # noqa: F401 (decoding, and the generated video)
    except ImportError:
        raise UserError('the video demo needs PyAV: pip install av (it is in '
                        'requirements/tests.txt; `make venv` installs it)'
                        ) from None
    os.makedirs(args.out_dir, exist_ok=True)
    if args.generate and not osp.isfile(args.video):
        generate_video(args.video, args.seconds, args.seed)
    if not osp.isfile(args.video):
        raise UserError(f'video file not found: {args.video} (add '
                        '--generate to write a synthetic one)')
    if args.checkpoint not in ('auto', 'random') and not osp.isfile(
            args.checkpoint):
        raise UserError(f'--checkpoint: file not found: {args.checkpoint}')
    extractor, random_backbones = build_extractor(args.extractor, args.seed)
    cfg = Config.fromfile(args.config)
    cfg, checkpoint, random_detector = resolve_checkpoint(
        args.checkpoint, cfg, extractor, args.seed, args.out_dir)
    reasons = [r for r in (random_backbones, random_detector) if r]
    notice = (PIPELINE_CHECK.format(why=' and '.join(reasons))
              if reasons else None)
    try:
        inferencer = MRHDInferencer(
            cfg, checkpoint, extractor=extractor, device=args.device,
            window_size=args.window_size, stride=args.stride)
        out = inferencer(
            args.video, list(args.query), out_dir=args.out_dir,
            notice=notice, embed_video=args.embed_video)
    finally:
        if random_detector:
            os.remove(checkpoint)
    records = out['predictions']
    vid = records[0]['vid']
    result = dict(
        video=args.video,
        pipeline_check=bool(reasons),
        note=notice or 'predictions of the given checkpoint',
        config=args.config,
        checkpoint=None if random_detector else checkpoint,
        extractor=args.extractor,
        predictions=records)
    json_path = osp.join(args.out_dir, 'predictions.json')
    with open(json_path, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1)
    if notice:
        print('\n' + '!' * 72 + f'\n{notice}\n' + '!' * 72)
    for record in records:
        top = record['pred_relevant_windows'][:3]
        print(f'query {record["qid"]} "{record["query"]}": top moments '
              f'{top}')
    print(f'wrote {json_path}, {len(records)} PNG(s) and '
          f'{osp.join(args.out_dir, vid + ".html")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
