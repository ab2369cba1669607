# Copyright (c) mmmrhd contributors. All rights reserved.
"""The official TaskWeave (EdenGabriel/TaskWeave) as a benchmark runner."""
import argparse
import os.path as osp
import sys
from typing import Any, Dict

import torch

from mmmrhd.datasets.collate import collate_targets
from .runner import (Runner, cuda_as_identity, official_inputs,
                     optimizer_step)


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
        # transformer.py calls Tensor.cuda once: identity on CPU, only here.
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
