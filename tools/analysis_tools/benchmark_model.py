# Copyright (c) mmmrhd contributors. All rights reserved.
"""Time a model's training step and inference forward (samples/s).

Usage::

    python tools/analysis_tools/benchmark_model.py CONFIG \\
        [--batch-size 32] [--num-clips 75] [--video-dim 2818] \\
        [--text-dim 512] [--steps 8] [--warmup 2] [--feedback both] \\
        [--repeat 1] [--device cpu] [--official-root PATH] \\
        [--profile N] [--cfg-options KEY=VALUE ...]

The method is the one of the official speed anchor
(``shared/research/official_speed.md``): one fixed batch (fixed seed) of
``B`` samples, ``B - 6`` videos of ``L`` clips and 6 shorter ones, text
lengths 8..32, 1/2/3 ground-truth windows of up to 12 clips; features are
random, L2-normalised per stream, with the two temporal-endpoint (TEF)
columns. A **train step** is forward -> criteria -> the model's training
total -> ``zero_grad`` -> ``backward`` -> ``clip_grad_norm_(0.1)`` ->
optimizer step (ours: the config's ``optim_wrapper.optimizer``, e.g. fused
AdamW; official: ``AdamW(lr=1e-4, weight_decay=1e-4)``) -> ``float(loss)``,
on the same
batch every step (weights change); ``warmup`` untimed steps, then ``steps``
timed ones. **Inference** is ``eval()`` + ``no_grad`` forward only (no
post-processing, no matcher): ``warmup`` untimed, then ``--infer-steps``
timed passes. Rows: train with the model's feedback off and on (models with
a ``FeedbackHead``, i.e. a ``feedback_active`` switch; otherwise one train
row) and inference
(feedback on). ``--repeat N`` runs everything N times, interleaved, and
reports medians.

The ratio column compares with the official implementation:

* ``--official-root PATH`` (a checkout of the official repository, e.g.
  EdenGabriel/TaskWeave): its model and criterion are built with the
  official QVHighlights script options, the same batch is fed in its input
  layout and timed in the same run (official feedback off/on = ``epoch_i``
  50/150, inference ``epoch_i=None``). Only models with an entry in
  ``OFFICIAL_ADAPTERS`` support this.
* otherwise the anchor numbers of ``official_speed.md`` are used, measured
  with the official code on this machine kind (2-core CPU); they only apply
  to the default shapes.
"""
import argparse
import contextlib
import datetime
import os.path as osp
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

from mmmrhd.datasets.collate import collate_targets, mrhd_collate
from mmmrhd.engine.hooks import find_feedback_switches
from mmmrhd.registry import MODELS, OPTIMIZERS
from mmmrhd.structures.spans import span_xx_to_cxw
from mmmrhd.utils import register_all_modules

#: Official anchor (official_speed.md, TaskWeave HD2MR, B=32, L=75, video
#: 2818, text 512): samples/s of train feedback off (epoch_i=50), on
#: (epoch_i=150) and inference (epoch_i=None; best of its two runs).
ANCHORS = {'TaskWeave': {'train_off': 11.3, 'train_on': 8.1, 'infer': 33.9}}
ANCHOR_SHAPE = dict(batch_size=32, num_clips=75, video_dim=2818, text_dim=512)
#: official_speed.md "Batch": short videos at these positions, these lengths
#: (of 75 clips); text lengths in batch order.
SHORT_VIDEOS = {3: 60, 8: 41, 13: 52, 19: 33, 24: 70, 29: 66}
TEXT_LENGTHS = (32, 8, 21, 9, 16, 24, 23, 20, 17, 23, 19, 26, 14, 24, 12, 17,
                12, 32, 11, 27, 16, 25, 30, 27, 12, 17, 11, 31, 10, 29, 18, 23)
#: QVHighlights video streams (SlowFast + CLIP + TEF = 2818).
QVH_STREAMS = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2)
]
CLIP_LEN = 2.0
GRAD_CLIP, LR, WEIGHT_DECAY = 0.1, 1e-4, 1e-4  # official train.py / config


def video_streams(video_dim: int) -> List[dict]:
    """QVHighlights layout for 2818 columns, else ``video`` + 2 TEF."""
    if video_dim == 2818:
        return [dict(s) for s in QVH_STREAMS]
    if video_dim < 3:
        raise ValueError(f'--video-dim must be >= 3 (features + 2 TEF), '
                         f'got {video_dim}')
    return [dict(name='video', dim=video_dim - 2), dict(name='tef', dim=2)]


def make_batch(batch_size: int,
               num_clips: int,
               video_dim: int,
               text_dim: int,
               seed: int = 0) -> Dict[str, Any]:
    """The benchmark batch (``mrhd_collate`` output), deterministic.

    Args:
        batch_size (int): ``B``.
        num_clips (int): ``L``; the 6 short videos get
            ``round(L * n / 75)`` clips (official_speed.md lengths).
        video_dim (int): Video width including the 2 TEF columns.
        text_dim (int): Text width.
        seed (int): Seed of the batch's own generator.

    Returns:
        dict: ``inputs`` and ``data_samples`` of the data contract.
    """
    if batch_size < 1 or num_clips < 1 or text_dim < 1:
        raise ValueError('--batch-size, --num-clips and --text-dim must be '
                         f'>= 1, got {batch_size}, {num_clips}, {text_dim}')
    g = torch.Generator().manual_seed(seed)
    dims = [s['dim'] for s in video_streams(video_dim)][:-1]
    samples = []
    for i in range(batch_size):
        n = max(1, round(num_clips * SHORT_VIDEOS.get(i, 75) / 75))
        t = TEXT_LENGTHS[i % len(TEXT_LENGTHS)]
        feats = [
            torch.nn.functional.normalize(
                torch.randn(n, d, generator=g), dim=1) for d in dims
        ]
        start = torch.arange(n, dtype=torch.float32)[:, None] / n
        video = torch.cat(feats + [start, start + 1.0 / n], dim=1)
        text = torch.nn.functional.normalize(
            torch.randn(t, text_dim, generator=g), dim=1)
        windows, clips = [], set()
        for _ in range(i % 3 + 1):
            length = int(torch.randint(1, min(12, n) + 1, (1, ), generator=g))
            s = int(torch.randint(0, n - length + 1, (1, ), generator=g))
            windows.append([s * CLIP_LEN, (s + length) * CLIP_LEN])
            clips.update(range(s, s + length))
        clips = sorted(clips)
        scores = torch.randint(0, 5, (len(clips), 3), generator=g)
        all_labels = torch.zeros(n)
        all_labels[clips] = scores.sum(1).float()
        outside = [c for c in range(n) if c not in clips] or clips
        pos = [
            clips[int(j)]
            for j in torch.randint(len(clips), (2, ), generator=g)
        ]
        neg = [
            outside[int(j)]
            for j in torch.randint(len(outside), (2, ), generator=g)
        ]
        gt_windows = torch.tensor(windows)
        ann = dict(
            qid=i,
            query=f'benchmark query {i}',
            vid=f'video_{i}',
            duration=n * CLIP_LEN,
            relevant_windows=windows,
            relevant_clip_ids=clips,
            saliency_scores=scores.tolist())
        samples.append(
            dict(
                inputs=dict(video_feat=video, text_feat=text),
                data_samples=dict(
                    qid=i,
                    query=ann['query'],
                    vid=ann['vid'],
                    duration=n * CLIP_LEN,
                    clip_len=CLIP_LEN,
                    num_clips=n,
                    gt_windows=gt_windows,
                    gt_spans=span_xx_to_cxw(gt_windows / (n * CLIP_LEN)),
                    saliency_pos_labels=torch.tensor(pos),
                    saliency_neg_labels=torch.tensor(neg),
                    saliency_all_labels=all_labels,
                    ann=ann)))
    return mrhd_collate(samples)


def _to(batch: Dict[str, Any], device: torch.device) -> Dict[str, Any]:
    return dict(
        inputs={
            k: v.to(device)
            for k, v in batch['inputs'].items()
        },
        data_samples=batch['data_samples'])


def build_model(cfg: Config, video_dim: int, text_dim: int,
                device: torch.device) -> torch.nn.Module:
    """``MODELS.build(cfg.model)`` with the benchmark's input widths.

    The widths go into ``model.video_proj.streams`` /
    ``model.text_proj.streams`` (the input projections of the mmmrhd
    detectors).
    """
    model_cfg = cfg.model.copy()
    for key, streams in (('video_proj', video_streams(video_dim)),
                         ('text_proj', [dict(name='text', dim=text_dim)])):
        if key not in model_cfg:
            raise KeyError(f"benchmark_model: the config's model has no "
                           f"'{key}'; cannot set the input widths")
        model_cfg[key] = dict(model_cfg[key], streams=streams)
    return MODELS.build(model_cfg).to(device)


class Runner:
    """Timed train step and inference of one implementation."""

    name = 'ours'

    def __init__(self,
                 model: torch.nn.Module,
                 batch: Dict[str, Any],
                 optimizer: Optional[dict] = None):
        self.model = model
        self.inputs = batch['inputs']
        self.samples = batch['data_samples']
        params = [p for p in model.parameters() if p.requires_grad]
        if optimizer is None:  # the official optimizer
            self.optimizer = torch.optim.AdamW(
                params, lr=LR, weight_decay=WEIGHT_DECAY)
        else:  # the config's (e.g. fused AdamW)
            self.optimizer = OPTIMIZERS.build(dict(optimizer, params=params))

    @property
    def has_feedback(self) -> bool:
        """Whether the model has a feedback switch (a ``FeedbackHead``)."""
        return bool(find_feedback_switches(self.model))

    def set_feedback(self, on: bool) -> None:
        for module in find_feedback_switches(self.model):
            module.feedback_active = on

    def train_step(self) -> float:
        self.model.train()
        losses = self.model(self.inputs, self.samples, mode='loss')
        total, _ = self.model.parse_losses(losses)
        self.optimizer.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.optimizer.step()
        return float(total.detach())

    def infer_step(self) -> None:
        self.model.eval()
        self.set_feedback(True)
        with torch.no_grad():
            self.model._forward(self.inputs, with_neg=False)

    def patch(self):
        return contextlib.nullcontext()


class OfficialTaskWeave(Runner):
    """The official TaskWeave (QVHighlights script options) on our batch."""

    name = 'official'
    #: ``build_model`` options: the official ``config.py`` defaults with the
    #: QVHighlights ``scripts/train.sh`` values (dset_name hl, video_tef,
    #: SlowFast + CLIP, CLIP text); only the fields ``build_model`` reads.
    OPTIONS = dict(
        dset_name='hl',
        a_feat_dir=None,
        a_feat_dim=None,
        aux_loss=True,
        contrastive_align_loss=False,
        contrastive_align_loss_coef=0.0,
        contrastive_hdim=64,
        dec_layers=2,
        enc_layers=2,
        dim_feedforward=1024,
        dropout=0.1,
        eos_coef=0.1,
        giou_loss_coef=1.0,
        hidden_dim=256,
        input_dropout=0.5,
        label_loss_coef=4.0,
        lw_saliency=1.0,
        max_q_l=32,
        max_v_l=75,
        n_input_proj=2,
        nheads=8,
        num_queries=10,
        position_embedding='sine',
        pre_norm=False,
        saliency_margin=0.2,
        set_cost_class=4.0,
        set_cost_giou=1.0,
        set_cost_span=10.0,
        span_loss_coef=10.0,
        span_loss_type='l1',
        temperature=0.07,
        use_txt_pos=False)

    def __init__(self, root: str, batch: Dict[str, Any], video_dim: int,
                 text_dim: int, device: torch.device, seed: int):
        if not osp.isfile(osp.join(root, 'taskweave', 'model.py')):
            raise FileNotFoundError(f'--official-root {root}: no '
                                    'taskweave/model.py (need a checkout '
                                    'of EdenGabriel/TaskWeave)')
        sys.path.insert(0, root)
        from taskweave.model import build_model as official_build
        # v_feat_dim includes the 2 TEF columns (BaseOptions.parse adds them).
        opt = argparse.Namespace(
            **self.OPTIONS,
            device=device,
            v_feat_dim=video_dim,
            t_feat_dim=text_dim)
        torch.manual_seed(seed)
        model, self.criterion = official_build(opt)
        self.criterion.to(device)
        self.device = device
        super().__init__(model.to(device), batch)
        self.epoch_i = 50
        i = self.inputs
        self.official_inputs = dict(
            src_txt=i['text_feat'],
            src_txt_mask=i['text_mask'],
            src_vid=i['video_feat'],
            src_vid_mask=i['video_mask'])
        self.targets = collate_targets(self.samples, device)

    @property
    def has_feedback(self) -> bool:
        return True

    def set_feedback(self, on: bool) -> None:
        # Official switch: feedback iff epoch_i + 1 > 100 (model.py).
        self.epoch_i = 150 if on else 50

    def patch(self):
        # transformer.py calls .cuda() once: identity on CPU, only here.
        if self.device.type == 'cuda':
            return contextlib.nullcontext()
        return _patched(torch.Tensor, 'cuda', lambda t, *a, **k: t)

    def train_step(self) -> float:
        # Official train.py train_epoch, one iteration.
        self.model.train()
        self.criterion.train()
        outputs, (hd_log_var, mr_log_var) = self.model(self.epoch_i,
                                                       **self.official_inputs)
        loss_dict = self.criterion(outputs, self.targets)
        weight_dict = self.criterion.weight_dict
        mr, hd = [], []
        for k in loss_dict:
            if k in weight_dict:
                if any(w in k for w in ('giou', 'span', 'label')):
                    mr.append(loss_dict[k])
                elif 'saliency' in k:
                    hd.append(loss_dict[k])
        loss_mr, loss_hd = sum(mr), sum(hd)
        total = (2 * loss_hd * torch.exp(-hd_log_var) +
                 loss_mr * torch.exp(-mr_log_var) + hd_log_var + mr_log_var)
        self.optimizer.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.optimizer.step()
        return float(total.detach())

    def infer_step(self) -> None:
        self.model.eval()
        with torch.no_grad():
            self.model(None, **self.official_inputs)


@contextlib.contextmanager
def _patched(owner: Any, attr: str, value: Any):
    old = getattr(owner, attr)
    setattr(owner, attr, value)
    try:
        yield
    finally:
        setattr(owner, attr, old)


#: Model type -> official runner class (``--official-root``).
OFFICIAL_ADAPTERS = {'TaskWeave': OfficialTaskWeave}


def time_row(runner: Runner, row: str, steps: int, warmup: int,
             infer_steps: int) -> List[float]:
    """Seconds per step of one row (``train_off``/``train_on``/``infer``)."""
    if row == 'infer':
        fn, n = runner.infer_step, infer_steps
    else:
        runner.set_feedback(row == 'train_on')
        fn, n = runner.train_step, steps
    times = []
    with runner.patch():
        for i in range(warmup + n):
            start = time.perf_counter()
            value = fn()
            if value is not None and value != value:
                raise FloatingPointError(f'{runner.name} {row}: loss is NaN')
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return times


def anchor_for(model_type: str, shape: Dict[str, int]) -> Optional[dict]:
    """The official_speed.md anchor, if it applies to these shapes."""
    if shape != ANCHOR_SHAPE:
        return None
    return ANCHORS.get(model_type)


def profile(runner: Runner, rows: Sequence[str], row_limit: int,
            warmup: int) -> None:
    """Print the top ops (self CPU time) of one step per row.

    ``warmup`` unprofiled steps run first: the first steps of a process
    also pay for allocations and lazy initialisation.
    """
    from torch.profiler import ProfilerActivity, profile as tprofile
    for row in rows:
        if warmup:
            time_row(runner, row, 1, warmup - 1, 1)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            time_row(runner, row, 1, 0, 1)
        print(f'\nprofile {runner.name} {row}:')
        print(prof.key_averages().table(
            sort_by='self_cpu_time_total', row_limit=row_limit))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark a model.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-clips', type=int, default=75)
    parser.add_argument(
        '--video-dim',
        type=int,
        default=2818,
        help='video width incl. 2 TEF columns; 2818 = '
        'SlowFast 2304 + CLIP 512 + TEF 2')
    parser.add_argument('--text-dim', type=int, default=512)
    parser.add_argument(
        '--steps', type=int, default=8, help='timed train steps')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--infer-steps', type=int, default=10, help='timed inference passes')
    parser.add_argument(
        '--feedback', choices=['on', 'off', 'both'], default='both')
    parser.add_argument(
        '--repeat',
        type=int,
        default=1,
        help='runs of everything; medians are reported')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads (default: torch default)')
    parser.add_argument(
        '--official-root',
        help='official repository '
        'checkout, timed in the same run')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='print the top N ops of one step per row')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)')
    args = parser.parse_args(argv)
    if min(args.steps, args.infer_steps, args.repeat) < 1 or args.warmup < 0 \
            or (args.threads is not None and args.threads < 1):
        parser.error('--steps, --infer-steps, --repeat and --threads must be '
                     '>= 1, --warmup >= 0')
    return args


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'benchmark_model: config {args.config} not '
                                'found')
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    shape = dict(
        batch_size=args.batch_size,
        num_clips=args.num_clips,
        video_dim=args.video_dim,
        text_dim=args.text_dim)
    batch = _to(make_batch(seed=args.seed, **shape), device)
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.video_dim, args.text_dim, device)
    model_type = cfg.model['type']
    optim_cfg = (cfg.get('optim_wrapper') or {}).get('optimizer')
    runners = [Runner(model, batch, optim_cfg)]
    if args.official_root:
        if model_type not in OFFICIAL_ADAPTERS:
            raise ValueError(f'benchmark_model: no official adapter for '
                             f"'{model_type}'; known: "
                             f'{sorted(OFFICIAL_ADAPTERS)}')
        runners.append(OFFICIAL_ADAPTERS[model_type](args.official_root, batch,
                                                     args.video_dim,
                                                     args.text_dim, device,
                                                     args.seed))
    rows = ['train_off', 'train_on'] if runners[0].has_feedback else ['train']
    if args.feedback != 'both' and runners[0].has_feedback:
        rows = [f'train_{args.feedback}']
    rows.append('infer')

    n_params = sum(p.numel() for p in model.parameters())
    print(f'{datetime.date.today()} {model_type} ({n_params:,} params) on '
          f'{device}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads; B={args.batch_size} '
          f'L={args.num_clips} video {args.video_dim} text {args.text_dim}; '
          f'{args.warmup} warm-up + {args.steps} train steps, '
          f'{args.infer_steps} inference passes, x{args.repeat}')
    if args.profile:
        for runner in runners:
            profile(runner, rows, args.profile, args.warmup)
    times: Dict[Tuple[str, str], List[float]] = {}
    for _ in range(args.repeat):
        for row in rows:
            for runner in runners:
                t = time_row(runner, row, args.steps, args.warmup,
                             args.infer_steps)
                times.setdefault((runner.name, row),
                                 []).append(sum(t) / len(t))
    anchor = None if args.official_root else anchor_for(model_type, shape)
    results = []
    for row in rows:
        res = dict(row=row)
        for runner in runners:
            sec = statistics.median(times[(runner.name, row)])
            res[runner.name] = args.batch_size / sec
        if 'official' in res:
            res['ratio'] = res['ours'] / res['official']
        elif anchor is not None and row in anchor:
            res['anchor'] = anchor[row]
            res['ratio'] = res['ours'] / anchor[row]
        results.append(res)
    _print(results, args, anchor, model_type)
    return results


def _print(results: List[dict], args: argparse.Namespace,
           anchor: Optional[dict], model_type: str) -> None:
    ref = 'official' if args.official_root else 'anchor'
    table = [['row', 'ours samples/s', f'{ref} samples/s', 'ours/' + ref]]
    for r in results:
        other = r.get(ref)
        table.append([
            r['row'], f"{r['ours']:.2f}",
            'n/a' if other is None else f'{other:.2f}',
            'n/a' if 'ratio' not in r else f"{r['ratio']:.2f}x"
        ])
    print(AsciiTable(table).table)
    if args.official_root:
        print(f'official: {args.official_root}, timed in this run')
    elif anchor is not None:
        print('anchor: the official implementation measured on this machine '
              'kind (2-core CPU, shared/research/official_speed.md); for an '
              'in-run comparison pass --official-root')
    else:
        print(f'no official anchor for {model_type} at these shapes (anchor '
              f'shapes: {ANCHOR_SHAPE}); for a comparison pass '
              '--official-root')


if __name__ == '__main__':
    main()
