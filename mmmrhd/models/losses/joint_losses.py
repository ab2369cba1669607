# Copyright (c) mmmrhd contributors. All rights reserved.
"""Joint MR + HD objectives: turn a loss dict into the training total.

Each module maps the dict of raw (unweighted) losses of a forward pass, e.g.
``{loss_span, loss_giou, loss_label, class_error, loss_saliency,
loss_span_0, ...}``, to ``(total, log_vars)``, the return convention of
MMEngine's ``BaseModel.parse_losses``, so a detector's ``parse_losses`` can
delegate to it. Keys are selected by name; a key that starts with ``'loss'``
but belongs to no group raises a KeyError (it would silently be left out of
the total), other keys (``class_error``, logging-only terms) are logged only.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import select_loss_keys, sequential_sum

LogVars = Dict[str, Tensor]


def _log_vars(total: Tensor, losses: Mapping[str, Tensor],
              owner: str) -> LogVars:
    """``{'loss': total, **losses}``, detached, in that order."""
    log_vars: LogVars = OrderedDict(loss=total.detach())
    for key, value in losses.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{owner}: losses['{key}'] must be a Tensor, got "
                            f'{type(value).__name__}')
        log_vars[key] = value.detach()
    return log_vars


def _check_groups(mr_keys: Sequence[str], hd_keys: Sequence[str],
                  owner: str) -> None:
    """Both groups must be non-empty (for MR-only or HD-only training use
    :class:`WeightedSumLoss` with the keys that exist)."""
    if len(mr_keys) == 0 or len(hd_keys) == 0:
        raise ValueError(f'{owner}: mr_keys and hd_keys must be non-empty, '
                         f'got {tuple(mr_keys)} and {tuple(hd_keys)}; use '
                         'WeightedSumLoss for single-task training')


def _group_sums(losses: Mapping[str, Tensor], mr_keys: Sequence[str],
                hd_keys: Sequence[str], aux: bool,
                owner: str) -> Tuple[Tensor, Tensor]:
    """``(L_mr, L_hd)``: raw sums of the MR keys (final + aux layers) and the
    HD keys, each in the order of ``losses`` (official ``train.py`` L71-81).
    """
    pairs = select_loss_keys(
        losses,
        dict(mr=list(mr_keys), hd=list(hd_keys)),
        aux=aux,
        owner=owner,
        aux_groups=['mr'])
    loss_mr = sequential_sum([losses[k] for k, g in pairs if g == 'mr'])
    loss_hd = sequential_sum([losses[k] for k, g in pairs if g == 'hd'])
    return loss_mr, loss_hd


class _TwoGroupLoss(nn.Module):
    """Base of the joint losses over an MR and an HD group of keys.

    Subclasses set :meth:`combine` (``L_mr``, ``L_hd`` -> total) and may add
    logging entries in :meth:`extra_log_vars`.

    Args:
        mr_keys (Sequence[str]): MR loss keys.
        hd_keys (Sequence[str]): HD loss keys.
        aux (bool): Whether ``_<i>`` copies of the MR keys are included.
    """

    def __init__(self, mr_keys: Sequence[str], hd_keys: Sequence[str],
                 aux: bool) -> None:
        super().__init__()
        _check_groups(mr_keys, hd_keys, self.__class__.__name__)
        self.mr_keys = tuple(mr_keys)
        self.hd_keys = tuple(hd_keys)
        self.aux = aux

    def extra_repr(self) -> str:
        return (f'mr_keys={self.mr_keys}, hd_keys={self.hd_keys}, '
                f'aux={self.aux}')

    def combine(self, loss_mr: Tensor, loss_hd: Tensor) -> Tensor:
        """The total from the two group sums."""
        raise NotImplementedError

    def extra_log_vars(self) -> LogVars:
        """Detached entries logged after ``loss_mr`` / ``loss_hd``."""
        return {}

    def forward(self, losses: Mapping[str, Tensor]) -> Tuple[Tensor, LogVars]:
        """Combine the losses.

        Args:
            losses (Mapping[str, Tensor]): Raw losses of one forward pass.

        Returns:
            tuple[Tensor, dict]: The total and the detached logging dict:
            ``loss`` (the total), every input entry, ``loss_mr``,
            ``loss_hd``, then :meth:`extra_log_vars`.
        """
        owner = self.__class__.__name__
        loss_mr, loss_hd = _group_sums(losses, self.mr_keys, self.hd_keys,
                                       self.aux, owner)
        total = self.combine(loss_mr, loss_hd)
        log_vars = _log_vars(total, losses, owner)
        log_vars['loss_mr'] = loss_mr.detach()
        log_vars['loss_hd'] = loss_hd.detach()
        log_vars.update(self.extra_log_vars())
        return total, log_vars


@MODELS.register_module()
class UncertaintyJointLoss(_TwoGroupLoss):
    """TaskWeave's uncertainty-weighted joint loss (paper eq. 9).

    .. math::

        \\mathcal{L} = a_{hd} e^{-s_{hd}} \\mathcal{L}_{hd}
                     + a_{mr} e^{-s_{mr}} \\mathcal{L}_{mr} + s_{hd} + s_{mr}

    with ``a_hd = 2``, ``a_mr = 1`` and learnable log-variances ``s``
    (``nn.Parameter(zeros(1))``; official ``hd_log_var`` / ``mr_log_var``,
    kept under those names so that official checkpoints convert 1:1).
    ``L_mr`` is the **raw, unweighted** sum of ``mr_keys`` over the final
    and every auxiliary layer (``loss_span_0`` ...), ``L_hd`` the raw sum of
    ``hd_keys``; the 10/1/4 weights of the weight dict are not applied
    (official TaskWeave ``train.py`` L71-84). The total has shape ``(1,)``
    like the log-variances (fixtures README quirk 13).

    Args:
        mr_keys (Sequence[str]): MR loss keys. Defaults to
            ``('loss_span', 'loss_giou', 'loss_label')``.
        hd_keys (Sequence[str]): HD loss keys. Defaults to
            ``('loss_saliency',)``.
        hd_factor (float): ``a_hd``. Defaults to 2.
        mr_factor (float): ``a_mr``. Defaults to 1.
        init (float): Initial value of both log-variances. Defaults to 0.
        aux (bool): Whether ``_<i>`` copies of the MR keys are included.
            Defaults to True.
    """

    def __init__(self,
                 mr_keys: Sequence[str] = ('loss_span', 'loss_giou',
                                           'loss_label'),
                 hd_keys: Sequence[str] = ('loss_saliency', ),
                 hd_factor: float = 2.0,
                 mr_factor: float = 1.0,
                 init: float = 0.0,
                 aux: bool = True) -> None:
        super().__init__(mr_keys, hd_keys, aux)
        self.hd_factor = hd_factor
        self.mr_factor = mr_factor
        self.hd_log_var = nn.Parameter(torch.full((1, ), float(init)))
        self.mr_log_var = nn.Parameter(torch.full((1, ), float(init)))

    def extra_repr(self) -> str:
        return (f'{super().extra_repr()}, hd_factor={self.hd_factor}, '
                f'mr_factor={self.mr_factor}')

    def combine(self, loss_mr: Tensor, loss_hd: Tensor) -> Tensor:
        """``a_hd e^(-s_hd) L_hd + a_mr e^(-s_mr) L_mr + s_hd + s_mr``."""
        # Same op order as the official train.py L84.
        return (self.hd_factor * loss_hd * torch.exp(-self.hd_log_var) +
                self.mr_factor * loss_mr * torch.exp(-self.mr_log_var) +
                self.hd_log_var + self.mr_log_var)

    def extra_log_vars(self) -> LogVars:
        """The current log-variances."""
        return dict(
            hd_log_var=self.hd_log_var.detach(),
            mr_log_var=self.mr_log_var.detach())


@MODELS.register_module()
class SumLoss(_TwoGroupLoss):
    """Unweighted ``L_mr + L_hd`` (TaskWeave paper Table 6, "Sum").

    ``L_mr`` and ``L_hd`` are formed as in :class:`UncertaintyJointLoss`.

    Args:
        mr_keys (Sequence[str]): MR loss keys. Defaults to
            ``('loss_span', 'loss_giou', 'loss_label')``.
        hd_keys (Sequence[str]): HD loss keys. Defaults to
            ``('loss_saliency',)``.
        aux (bool): Whether ``_<i>`` copies of the MR keys are included.
            Defaults to True.
    """

    def __init__(self,
                 mr_keys: Sequence[str] = ('loss_span', 'loss_giou',
                                           'loss_label'),
                 hd_keys: Sequence[str] = ('loss_saliency', ),
                 aux: bool = True) -> None:
        super().__init__(mr_keys, hd_keys, aux)

    def combine(self, loss_mr: Tensor, loss_hd: Tensor) -> Tensor:
        """``L_mr + L_hd``."""
        return loss_mr + loss_hd


@MODELS.register_module()
class WeightedSumLoss(nn.Module):
    """``sum_k w_k L_k``, the official weight-dict total.

    Used for training by QD-DETR, TR-DETR (plus its alignment losses),
    VideoLights and Moment-DETR, and for TaskWeave's validation loss and its
    "Weighted Sum" ablation (paper Table 6). With ``aux=True`` the ``_<i>``
    copy of a key gets the weight of the key, except for the keys in
    ``aux_exclude`` (the official weight dict has no auxiliary copy of
    ``loss_saliency``). The sum runs in the order of the loss dict, as the
    official ``sum(loss_dict[k] * weight_dict[k] for k in loss_dict ...)``.

    Args:
        weights (dict[str, float]): Weight per base key. Defaults to the
            official QVHighlights values ``loss_span=10, loss_giou=1,
            loss_label=4, loss_saliency=1`` (``span_loss_coef``,
            ``giou_loss_coef``, ``label_loss_coef``, ``lw_saliency``).
        aux (bool): Whether auxiliary-layer copies are accepted. Defaults to
            True.
        aux_exclude (Sequence[str]): Keys without auxiliary copies. Defaults
            to ``('loss_saliency',)``.
    """

    def __init__(self,
                 weights: Dict[str, float] = dict(
                     loss_span=10.0,
                     loss_giou=1.0,
                     loss_label=4.0,
                     loss_saliency=1.0),
                 aux: bool = True,
                 aux_exclude: Sequence[str] = ('loss_saliency', )) -> None:
        super().__init__()
        if not weights:
            raise ValueError('WeightedSumLoss: weights is empty')
        self.weights = dict(weights)
        self.aux = aux
        self.aux_exclude = tuple(aux_exclude)

    def extra_repr(self) -> str:
        return (f'weights={self.weights}, aux={self.aux}, '
                f'aux_exclude={self.aux_exclude}')

    def forward(self, losses: Mapping[str, Tensor]) -> Tuple[Tensor, LogVars]:
        """Combine the losses.

        Args:
            losses (Mapping[str, Tensor]): Raw losses of one forward pass.

        Returns:
            tuple[Tensor, dict]: The total and the detached logging dict
            (``loss``, then every input entry, unweighted).
        """
        owner = self.__class__.__name__
        pairs = select_loss_keys(
            losses, {k: [k]
                     for k in self.weights},
            aux=self.aux,
            owner=owner,
            aux_groups=[k for k in self.weights if k not in self.aux_exclude])
        total = sequential_sum(
            [losses[key] * self.weights[base] for key, base in pairs])
        return total, _log_vars(total, losses, owner)
