# Copyright (c) mmmrhd contributors. All rights reserved.
"""A neck without task decoupling (TaskWeave paper Table 4, row 1)."""
from typing import Dict, Mapping, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .task_decoupled_unit import TASKS, build_expert


@MODELS.register_module()
class SharedExpertNeck(nn.Module):
    """Both tasks read one shared encoder: ``X_mr = X_hd = S(Z)``.

    The "w/o task-decoupled unit" baseline of paper Table 4 (row 1): the
    fused clip features go through the shared expert only (no mappers, no
    task-specific experts), the usual shared backbone with two task heads
    (paper §3.1). Drop-in replacement for :class:`TaskDecoupledUnit` (same
    ``forward`` / ``forward_streams`` interface).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        shared_expert (dict): Config of ``S``. Defaults to the 2-layer
            :class:`TransformerExpert` of the task-decoupled unit.
        official_compat (bool): Default ``official_compat`` of the expert.
            Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 shared_expert: dict = dict(
                     type='TransformerExpert', num_layers=2),
                 official_compat: bool = False) -> None:
        super().__init__()
        self.shared_expert = build_expert(shared_expert, embed_dim,
                                          official_compat, 'shared')
        for p in self.parameters():  # as TaskDecoupledUnit
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self,
                x: Tensor,
                mask: Tensor,
                pos: Tensor,
                tasks: Sequence[str] = TASKS) -> Dict[str, Tensor]:
        """``(B, L, d)`` features per requested task (the same tensor)."""
        return self.forward_streams({t: (x, mask, pos) for t in tasks})

    def forward_streams(
        self, streams: Mapping[str, Tuple[Tensor, Tensor,
                                          Tensor]]) -> Dict[str, Tensor]:
        """task -> ``S(Z_t)`` ``(B_t, L, d)``; one expert call for all."""
        for task in streams:
            if task not in TASKS:
                raise ValueError(f"SharedExpertNeck: unknown task '{task}'; "
                                 f'valid: {TASKS}')
        if not streams:
            return {}
        inputs = list(streams.values())
        sizes = [x.shape[0] for x, _, _ in inputs]
        out = self.shared_expert(*(torch.cat(t) for t in zip(*inputs)))
        return dict(zip(streams, out.split(sizes)))
