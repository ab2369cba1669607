# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave's task-decoupled unit (paper §3.2, eq. 1)."""
from typing import Dict, List, Mapping, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part
from mmmrhd.utils.errors import ConfigError
from ..layers.channel_layer_norm import ChannelLayerNorm
from .experts import EXPERT_TYPES, BaseExpert

TASKS = ('mr', 'hd')


def expert_types() -> List[str]:
    """Names of the registered experts (subclasses of :class:`BaseExpert`).

    The built-in :data:`EXPERT_TYPES` first, then any other registered
    expert (e.g. a user plugin's) in registration order.
    """
    extra = [
        name for name, cls in MODELS.module_dict.items()
        if name not in EXPERT_TYPES and isinstance(cls, type)
        and issubclass(cls, BaseExpert)
    ]
    return list(EXPERT_TYPES) + extra


def build_expert(cfg: dict, embed_dim: int, official_compat: bool,
                 role: str) -> nn.Module:
    """Build an expert from its config.

    ``embed_dim`` and ``official_compat`` are filled in unless the config
    sets them.

    Args:
        cfg (dict): Expert config; ``type`` is one of :data:`EXPERT_TYPES`
            or another registered subclass of :class:`BaseExpert`.
        embed_dim (int): ``d``.
        official_compat (bool): Default of the expert's flag.
        role (str): ``'shared'``, ``'mr'`` or ``'hd'`` (for messages).

    Returns:
        nn.Module: The expert.

    Raises:
        ConfigError: ``cfg`` is not a dict with a ``type``, or the type is
            unknown or not an expert; the message lists the valid types.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ConfigError(f'TaskDecoupledUnit: {role}_expert must be a '
                          f"config dict with a 'type', got {cfg!r}")
    cfg = dict(cfg)
    cls = cfg['type'] if isinstance(cfg['type'], type) else MODELS.get(
        cfg['type'])
    if cls is None:
        raise ConfigError(
            f"TaskDecoupledUnit: unknown {role}_expert type "
            f"'{cfg['type']}'; valid types: {', '.join(expert_types())}")
    if not (isinstance(cls, type) and issubclass(cls, BaseExpert)):
        name = getattr(cls, '__name__', repr(cls))
        raise ConfigError(
            f"TaskDecoupledUnit: {role}_expert type '{name}' is registered "
            'but is not an expert (a subclass of BaseExpert); valid types: '
            f"{', '.join(expert_types())}")
    cfg.setdefault('embed_dim', embed_dim)
    cfg.setdefault('official_compat', official_compat)
    return build_part(MODELS, cfg)


@MODELS.register_module()
class TaskDecoupledUnit(nn.Module):
    """Task mappers, one shared expert and two task-specific experts.

    .. math::

        X_{mr} = P_{mr}(M_{mr}(Z)) \\otimes S(M_{mr}(Z)), \\quad
        X_{hd} = P_{hd}(M_{hd}(Z)) \\otimes S(M_{hd}(Z))

    (paper eq. 1): ``M`` = mapper (Linear(d, d), official ``mr_linear`` /
    ``hd_linear``), ``S`` = the shared expert, **one** module applied to both
    streams with the same weights (official ``shared_encoder`` called twice,
    fixtures README quirk 12), ``P`` = task-specific expert,
    :math:`\\otimes` = element-wise product (official L220-221).

    At construction every parameter with ``ndim > 1`` is xavier-initialised,
    as the official ``Transformer._reset_parameters`` does for the whole
    transformer. That includes the ``(1, d, 1)`` channel-LayerNorm
    parameters of a CNN expert in official-compat mode; otherwise they keep
    the LayerNorm init (1 / 0).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        shared_expert (dict): Config of ``S``. Defaults to a 2-layer
            :class:`TransformerExpert` with max-pooling.
        mr_expert (dict): Config of ``P_mr``. Defaults to :class:`CNNExpert`.
        hd_expert (dict): Config of ``P_hd``. Defaults to
            :class:`IdentityExpert`.
        official_compat (bool): Default ``official_compat`` of the experts
            (and the init rule above). Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 shared_expert: dict = dict(
                     type='TransformerExpert', num_layers=2),
                 mr_expert: dict = dict(type='CNNExpert'),
                 hd_expert: dict = dict(type='IdentityExpert'),
                 official_compat: bool = False) -> None:
        super().__init__()
        self.official_compat = official_compat
        self.mr_mapper = nn.Linear(embed_dim, embed_dim)
        self.hd_mapper = nn.Linear(embed_dim, embed_dim)
        self.shared_expert = build_expert(shared_expert, embed_dim,
                                          official_compat, 'shared')
        self.mr_expert = build_expert(mr_expert, embed_dim, official_compat,
                                      'mr')
        self.hd_expert = build_expert(hd_expert, embed_dim, official_compat,
                                      'hd')
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        keep = set()
        if not self.official_compat:
            keep = {
                id(p)
                for m in self.modules() if isinstance(m, ChannelLayerNorm)
                for p in m.parameters()
            }
        for p in self.parameters():
            if p.dim() > 1 and id(p) not in keep:
                nn.init.xavier_uniform_(p)

    def forward(self,
                x: Tensor,
                mask: Tensor,
                pos: Tensor,
                tasks: Sequence[str] = TASKS) -> Dict[str, Tensor]:
        """Compute the task features of one input.

        Args:
            x (Tensor): Fused clip features ``Z`` ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid clip.
            pos (Tensor): Clip positional encoding ``(B, L, d)`` (used by
                attention experts).
            tasks (Sequence[str]): Which of ``'mr'``, ``'hd'`` to compute
                (a pass whose MR or HD output is unused skips it).

        Returns:
            dict[str, Tensor]: ``{'mr': X_mr, 'hd': X_hd}`` (as requested),
            each ``(B, L, d)``.
        """
        return self.forward_streams({t: (x, mask, pos) for t in tasks})

    def forward_streams(
        self, streams: Mapping[str, Tuple[Tensor, Tensor,
                                          Tensor]]) -> Dict[str, Tensor]:
        """Compute task features, each task from its own batch.

        The shared expert runs once on all mapped streams concatenated
        along the batch (it is one module with shared weights and treats
        samples independently), so e.g. the MR stream of a batch and the HD
        stream of that batch plus its negative pair cost one call.

        Args:
            streams (Mapping): task (``'mr'`` / ``'hd'``) -> ``(Z (B_t, L,
                d), mask (B_t, L), pos (B_t, L, d))``.

        Returns:
            dict[str, Tensor]: task -> ``(B_t, L, d)``.
        """
        mapped, experts, sizes = [], [], []
        for task, (x, mask, pos) in streams.items():
            if task == 'mr':
                mapper, expert = self.mr_mapper, self.mr_expert
            elif task == 'hd':
                mapper, expert = self.hd_mapper, self.hd_expert
            else:
                raise ValueError(f"TaskDecoupledUnit: unknown task '{task}'; "
                                 f'valid: {TASKS}')
            mapped.append(mapper(x))
            experts.append(expert)
            sizes.append(x.shape[0])
        if not mapped:
            return {}
        masks = [m for _, m, _ in streams.values()]
        poses = [p for _, _, p in streams.values()]
        if len(mapped) == 1:
            shared = [self.shared_expert(mapped[0], masks[0], poses[0])]
        else:
            shared = self.shared_expert(
                torch.cat(mapped), torch.cat(masks),
                torch.cat(poses)).split(sizes)
        return {
            task: expert(m, mask, pos) * s
            for task, expert, m, mask, pos, s in zip(streams, experts, mapped,
                                                     masks, poses, shared)
        }
