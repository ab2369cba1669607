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

* ``--official-root PATH`` (a checkout of the official repository:
  EdenGabriel/TaskWeave, wjun0830/QD-DETR, mingyao1120/TR-DETR,
  jayleicn/moment_detr or dpaul06/VideoLights): its model and criterion
  are built with the official QVHighlights script options, the same batch
  is fed in its input layout and timed in the same run (TaskWeave feedback
  off/on = ``epoch_i`` 50/150, inference ``epoch_i=None``; VideoLights'
  criterion at ``epoch_i=9``). Only models with an entry in ``OFFICIAL_ADAPTERS``
  support this.
* otherwise the anchor numbers of ``official_speed.md`` are used, measured
  with the official code on this machine kind (2-core CPU); they only apply
  to the default shapes.

samples/s = ``B`` / the median seconds of the timed steps of a row (over
all repeats). With ``--official-root`` ours and the official code run
interleaved step by step (who goes first alternates), so load from other
processes hits both alike.
"""
import argparse
import contextlib
import datetime
import os
import os.path as osp
import statistics
import sys
import time
import types
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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
        pos_mask = torch.zeros(n)  # TR-DETR `pos_mask`: relevant clips
        pos_mask[clips] = 1.0
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
                    pos_mask=pos_mask,
                    # VideoLights' hard-loss target (official dataset key)
                    saliency_pos_index=(all_labels > 0).long(),
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


def official_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, Any]:
    """Our padded inputs in the official keyword layout (``src_txt``,
    ``src_txt_mask``, ``src_vid``, ``src_vid_mask``)."""
    return dict(
        src_txt=inputs['text_feat'],
        src_txt_mask=inputs['text_mask'],
        src_vid=inputs['video_feat'],
        src_vid_mask=inputs['video_mask'])


def cuda_as_identity(device: torch.device):
    """Context in which ``Tensor.cuda()`` is the identity (CPU runs of
    official code that calls ``.cuda()``); a no-op on CUDA devices."""
    if device.type == 'cuda':
        return contextlib.nullcontext()
    return _patched(torch.Tensor, 'cuda', lambda t, *a, **k: t)


def optimizer_step(model: torch.nn.Module, optimizer: Any,
                   total: torch.Tensor, max_norm: float = GRAD_CLIP) -> float:
    """``zero_grad`` -> ``backward`` -> ``clip_grad_norm_(max_norm)`` (if
    > 0) -> ``step``; returns ``float(total)``."""
    optimizer.zero_grad()
    total.backward()
    if max_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(total.detach())


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
        return optimizer_step(self.model, self.optimizer, total)

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
        self.official_inputs = official_inputs(self.inputs)
        self.targets = collate_targets(self.samples, device)

    @property
    def has_feedback(self) -> bool:
        return True

    def set_feedback(self, on: bool) -> None:
        # Official switch: feedback iff epoch_i + 1 > 100 (model.py).
        self.epoch_i = 150 if on else 50

    def patch(self):
        # transformer.py calls .cuda() once: identity on CPU, only here.
        return cuda_as_identity(self.device)

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
        return optimizer_step(self.model, self.optimizer, total)

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


def _stub_module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def _missing_stub(name: str) -> Callable:

    def missing(*args, **kwargs):
        raise RuntimeError(f'benchmark_model: {name} is an import-time stub '
                           '(the package is not installed); the benchmark '
                           'never calls it')

    return missing


def _torchvision_sigmoid_focal_loss(inputs: torch.Tensor,
                                    targets: torch.Tensor,
                                    alpha: float = 0.25,
                                    gamma: float = 2.0,
                                    reduction: str = 'none') -> torch.Tensor:
    """``torchvision.ops.sigmoid_focal_loss`` (RetinaNet focal loss, the
    same element-wise maths as torchvision 0.15+ / fvcore), for official
    code that imports torchvision only for this function."""
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        inputs, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t)**gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


def _import_stubs() -> Dict[str, types.ModuleType]:
    """Import-time stand-ins for what the official moment_detr-family code
    imports but never runs in a train step (progress bars, tensorboard,
    pandas markdown, sklearn PR curves), and torchvision's focal loss."""
    focal = _stub_module(
        'torchvision.ops.focal_loss',
        sigmoid_focal_loss=_torchvision_sigmoid_focal_loss)
    ops = _stub_module(
        'torchvision.ops',
        focal_loss=focal,
        sigmoid_focal_loss=_torchvision_sigmoid_focal_loss)
    return {
        'tqdm': _stub_module('tqdm', tqdm=lambda it=None, *a, **k: it,
                             trange=lambda *a, **k: range(*a)),
        'pandas': _stub_module('pandas', DataFrame=_missing_stub('pandas')),
        'sklearn': _stub_module('sklearn'),
        'sklearn.metrics': _stub_module(
            'sklearn.metrics',
            precision_recall_curve=_missing_stub('sklearn')),
        'torch.utils.tensorboard': _stub_module(
            'torch.utils.tensorboard',
            SummaryWriter=_missing_stub('tensorboard')),
        # VideoLights: start_end_dataset / train.py import-time only
        'torchtext': _stub_module('torchtext', vocab=_stub_module('vocab')),
        'fvcore': _stub_module('fvcore'),
        'fvcore.nn': _stub_module(
            'fvcore.nn', FlopCountAnalysis=_missing_stub('fvcore')),
        'torchvision': _stub_module('torchvision', ops=ops),
        'torchvision.ops': ops,
        'torchvision.ops.focal_loss': focal,
    }


def _installed(name: str) -> bool:
    import importlib.util
    try:
        if name == 'torch.utils.tensorboard':  # needs the tensorboard pkg
            return importlib.util.find_spec('tensorboard') is not None
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def _official_imports(root: str):
    """Import official code from ``root`` without leaking it.

    ``root`` goes first on ``sys.path``; the official repositories share
    top-level names (``utils``, ``standalone_eval``), so modules of those
    names imported before are set aside and everything imported from
    ``root`` (and the stubs of :func:`_import_stubs`, used only for the
    packages that are not installed) is removed again afterwards. The
    imported objects stay alive through the references the runner keeps.
    """
    tops = {
        osp.splitext(n)[0]
        for n in os.listdir(root)
        if n.endswith('.py') or osp.isdir(osp.join(root, n))
    }
    tops.discard('__pycache__')

    def ours(name: str) -> bool:
        return name.split('.')[0] in tops

    saved = {n: m for n, m in sys.modules.items() if ours(n)}
    for n in saved:
        del sys.modules[n]
    stubs = {n: m for n, m in _import_stubs().items() if not _installed(n)}
    shadowed = {n: sys.modules[n] for n in stubs if n in sys.modules}
    before = set(sys.modules)
    sys.modules.update(stubs)
    sys.path.insert(0, root)
    try:
        yield
    finally:
        sys.path.remove(root)
        for n in list(sys.modules):
            if n in stubs or (n not in before and ours(n)):
                del sys.modules[n]
        sys.modules.update(shadowed)
        sys.modules.update(saved)


class OfficialMomentDETRFamily(Runner):
    """Official code of a moment_detr-family repository on our batch.

    official_speed.md "Method": the official ``BaseOptions`` parser with
    the option values of the repository's QVHighlights
    ``scripts/train.sh`` (data paths left out), the official
    ``train.set_seed(opt.seed)`` and ``inference.setup_model(opt)`` (model,
    criterion, ``AdamW(lr, wd)``), and one iteration of the official
    ``train_epoch``: forward -> criterion -> weighted sum of the weighted
    losses (+ :meth:`extra_loss`) -> ``zero_grad`` -> ``backward`` ->
    ``clip_grad_norm_(opt.grad_clip)`` -> ``step`` -> ``float(loss)``.
    Tensors' ``.cuda()`` (``transformer.py`` decoder target) is the
    identity while a step runs on CPU (:meth:`patch`); the checkout is not
    modified.
    """

    name = 'official'
    #: Python package inside the checkout, e.g. ``qd_detr``.
    package = ''
    repository = ''
    #: ``scripts/train.sh`` options other than data/feature paths and the
    #: feature widths (``v_feat_dim``/``t_feat_dim`` come from the batch).
    script_args: Tuple[str, ...] = ()

    def __init__(self, root: str, batch: Dict[str, Any], video_dim: int,
                 text_dim: int, device: torch.device, seed: int):
        if not osp.isfile(osp.join(root, self.package, 'model.py')):
            raise FileNotFoundError(
                f'--official-root {root}: no {self.package}/model.py (need '
                f'a checkout of {self.repository})')
        import importlib
        with _official_imports(root):
            config = importlib.import_module(f'{self.package}.config')
            inference = importlib.import_module(f'{self.package}.inference')
            train = importlib.import_module(f'{self.package}.train')
            self.import_extra(importlib.import_module)
        self.opt = self.options(config.BaseOptions(), video_dim, text_dim,
                                device)
        train.set_seed(self.opt.seed)  # script seed, as the official run
        model, self.criterion, optimizer, _ = inference.setup_model(self.opt)
        self.criterion.to(device)
        self.device = device
        super().__init__(model.to(device), batch)
        self.optimizer = optimizer  # official AdamW(lr, weight_decay=wd)
        self.official_inputs = official_inputs(self.inputs)
        self.targets = collate_targets(self.samples, device)

    def options(self, base_options: Any, video_dim: int, text_dim: int,
                device: torch.device) -> argparse.Namespace:
        """``BaseOptions.parse()`` without its side effects (results dir,
        option JSON, code zip): parser defaults + script options, then the
        same derived fields (TEF adds 2 video columns)."""
        base_options.initialize()
        opt = base_options.parser.parse_args(
            list(self.script_args) + [
                '--v_feat_dim', str(video_dim - 2), '--t_feat_dim',
                str(text_dim), '--exp_id', 'benchmark'
            ])
        opt.device = device
        opt.pin_memory = not opt.no_pin_memory
        opt.use_tef = 'tef' in opt.ctx_mode
        opt.use_video = 'video' in opt.ctx_mode
        if not opt.use_video:
            opt.v_feat_dim = 0
        if opt.use_tef:
            opt.v_feat_dim += 2
        return opt

    def import_extra(self, import_module: Callable) -> None:
        """Import more official modules while the checkout is on the
        path."""

    def criterion_losses(self, outputs: dict) -> Dict[str, torch.Tensor]:
        """The official ``loss_dict = criterion(outputs, targets)``."""
        return self.criterion(outputs, self.targets)

    def extra_loss(self, outputs: dict, losses: torch.Tensor) -> torch.Tensor:
        """Terms ``train_epoch`` adds to the weighted sum (none)."""
        return losses

    def patch(self):
        return cuda_as_identity(self.device)

    def train_step(self) -> float:
        self.model.train()
        self.criterion.train()
        outputs = self.model(**self.official_inputs)
        loss_dict = self.criterion_losses(outputs)
        weight_dict = self.criterion.weight_dict
        losses = sum(loss_dict[k] * weight_dict[k] for k in loss_dict.keys()
                     if k in weight_dict)
        losses = self.extra_loss(outputs, losses)
        return optimizer_step(self.model, self.optimizer, losses,
                              self.opt.grad_clip)

    def infer_step(self) -> None:
        self.model.eval()
        with torch.no_grad():
            self.model(**self.official_inputs)


class OfficialQDDETR(OfficialMomentDETRFamily):
    """Official QD-DETR (wjun0830/QD-DETR ``qd_detr/scripts/train.sh``)."""

    package = 'qd_detr'
    repository = 'wjun0830/QD-DETR'
    script_args = ('--dset_name', 'hl', '--ctx_mode', 'video_tef', '--bsz',
                   '32')


class OfficialTRDETR(OfficialMomentDETRFamily):
    """Official TR-DETR (mingyao1120/TR-DETR ``tr_detr/scripts/train.sh``):
    total = weighted sum + ``VTC_loss_coef`` (0.3) * VTC +
    ``CTC_loss_coef`` (0.5) * CTC, as in its ``train_epoch``; the CTC loss
    reads ``targets['src_pos_mask']`` (the batch's ``pos_mask``)."""

    package = 'tr_detr'
    repository = 'mingyao1120/TR-DETR'
    script_args = ('--seed', '2017', '--label_loss_coef', '4',
                   '--VTC_loss_coef', '0.3', '--CTC_loss_coef', '0.5',
                   '--dset_name', 'hl', '--ctx_mode', 'video_tef', '--bsz',
                   '32', '--lr', '0.0001', '--n_epoch', '200',
                   '--lw_saliency', '1.0', '--lr_drop', '400')

    def import_extra(self, import_module: Callable) -> None:
        self.vtc_loss = import_module(
            f'{self.package}.loss_fun.VTCLoss').VTCLoss
        self.ctc_loss = import_module(
            f'{self.package}.loss_fun.CTCLoss').CTC_Loss

    def extra_loss(self, outputs: dict, losses: torch.Tensor) -> torch.Tensor:
        i = self.official_inputs
        ctc = self.ctc_loss()(outputs['src_vid_ed'], outputs['src_txt_ed'],
                              self.targets['src_pos_mask'],
                              i['src_vid_mask'], i['src_txt_mask'])
        vtc = self.vtc_loss()(outputs['src_txt_cls_ed'],
                              outputs['src_vid_cls_ed'])
        return (losses + self.opt.VTC_loss_coef * vtc +
                self.opt.CTC_loss_coef * ctc)


class OfficialMomentDETR(OfficialMomentDETRFamily):
    """Official Moment-DETR (jayleicn/moment_detr
    ``moment_detr/scripts/train.sh``: QVHighlights, ``video_tef``, SlowFast
    + CLIP video, CLIP text, batch 32; parser seed 2018)."""

    package = 'moment_detr'
    repository = 'jayleicn/moment_detr'
    script_args = ('--dset_name', 'hl', '--ctx_mode', 'video_tef', '--bsz',
                   '32')


class OfficialVideoLights(OfficialMomentDETRFamily):
    """Official VideoLights (dpaul06/VideoLights
    ``video_lights/scripts/qvhl/train.sh`` without BLIP: SlowFast + CLIP
    video, CLIP text, encoder / decoder / Bi-CMF layers 3 / 3 / 1, hidden
    256, MR2HD, hard positive/negative and contrastive-align (0.2) losses,
    seed 2018); the criterion runs as ``criterion(outputs, targets,
    epoch_i)`` at ``epoch_i = 9`` (official_speed.md: hard losses x10)."""

    package = 'video_lights'
    repository = 'dpaul06/VideoLights'
    script_args = ('--dset_name', 'hl', '--ctx_mode', 'video_tef', '--bsz',
                   '32', '--dec_layers', '3', '--enc_layers', '3',
                   '--bicmf_layers', '1', '--mr_to_hd_loss',
                   '--hard_pos_neg_loss', '--contrastive_align_loss',
                   '--contrastive_align_loss_coef', '0.2', '--hidden_dim',
                   '256', '--seed', '2018')
    #: official_speed.md: VideoLights timed at epoch_i = 9.
    epoch_i = 9

    def criterion_losses(self, outputs: dict) -> Dict[str, torch.Tensor]:
        return self.criterion(outputs, self.targets, self.epoch_i)


#: Model type -> official runner class (``--official-root``).
OFFICIAL_ADAPTERS = {
    'TaskWeave': OfficialTaskWeave,
    'QDDETR': OfficialQDDETR,
    'TRDETR': OfficialTRDETR,
    'MomentDETR': OfficialMomentDETR,
    'VideoLights': OfficialVideoLights,
}


def _row_step(runner: Runner, row: str, steps: int,
              infer_steps: int) -> Tuple[Callable, int]:
    """The step function of ``row`` (feedback set) and its timed count."""
    if row == 'infer':
        return runner.infer_step, infer_steps
    runner.set_feedback(row == 'train_on')
    return runner.train_step, steps


def _timed_step(runner: Runner, row: str, fn: Callable) -> float:
    """Seconds of one step (the runner's patches applied, not timed)."""
    with runner.patch():
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    if value is not None and value != value:
        raise FloatingPointError(f'{runner.name} {row}: loss is NaN')
    return seconds


def time_row(runner: Runner, row: str, steps: int, warmup: int,
             infer_steps: int) -> List[float]:
    """Seconds per step of one row (``train_off``/``train_on``/``infer``)."""
    return time_rows_interleaved([runner], row, steps, warmup,
                                 infer_steps)[runner.name]


def time_rows_interleaved(runners: Sequence[Runner], row: str, steps: int,
                          warmup: int,
                          infer_steps: int) -> Dict[str, List[float]]:
    """Seconds per step of one row for every runner, steps interleaved.

    Step ``i`` of every runner runs before step ``i + 1`` of any, and the
    runner that goes first alternates, so a load change on a shared
    machine hits ours and the official code alike (``warmup`` untimed
    steps of each first).

    Returns:
        dict: runner name -> seconds of each timed step.
    """
    fns = [_row_step(r, row, steps, infer_steps) for r in runners]
    n = fns[0][1]
    times: Dict[str, List[float]] = {r.name: [] for r in runners}
    for i in range(warmup + n):
        order = list(zip(runners, fns))
        if i % 2:
            order.reverse()
        for runner, (fn, _) in order:
            seconds = _timed_step(runner, row, fn)
            if i >= warmup:
                times[runner.name].append(seconds)
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
    # Per-step seconds of every repeat, ours and official interleaved step
    # by step; the median step is robust to other processes' bursts.
    times: Dict[Tuple[str, str], List[float]] = {}
    for _ in range(args.repeat):
        for row in rows:
            row_times = time_rows_interleaved(runners, row, args.steps,
                                              args.warmup, args.infer_steps)
            for name, t in row_times.items():
                times.setdefault((name, row), []).extend(t)
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
