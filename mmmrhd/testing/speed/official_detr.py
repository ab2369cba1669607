# Copyright (c) mmmrhd contributors. All rights reserved.
"""The official Moment-DETR-family code (jayleicn/moment_detr,
wjun0830/QD-DETR, mingyao1120/TR-DETR, dpaul06/VideoLights) as benchmark
runners: imported from a checkout without leaking it, with import-time
stand-ins for packages the timed code never calls."""
import argparse
import contextlib
import os
import os.path as osp
import sys
import types
from typing import Any, Callable, Dict, Tuple

import torch

from mmmrhd.datasets.collate import collate_targets
from .runner import (Runner, cuda_as_identity, official_inputs,
                     optimizer_step)


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
    Tensors' ``cuda`` method (``transformer.py`` decoder target) is the
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
