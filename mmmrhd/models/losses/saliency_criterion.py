# Copyright (c) mmmrhd contributors. All rights reserved.
"""Highlight-detection (saliency) criterion: a sum of saliency terms."""
from typing import Any, Dict, List, Mapping, Sequence, Union

from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part

ConfigOrModule = Union[dict, nn.Module]

#: QD-DETR / TaskWeave / VideoLights: ``hinge + rank_contrastive +
#: neg_pair`` in this order (QD-DETR model.py L359).
DEFAULT_TERMS = (
    dict(type='SaliencyHingeLoss', margin=0.2),
    dict(type='RankContrastiveLoss', with_neg=True),
    dict(type='NegPairLoss', mode='official'),
)


@MODELS.register_module()
class SaliencyCriterion(nn.Module):
    """Sum of saliency loss terms, reported as ``loss_saliency``.

    Each term is a module with a ``name`` attribute and
    ``forward(outputs, targets) -> Tensor``. The terms are summed in list
    order (``((t0 + t1) + t2)``), which is the official order for the
    defaults. Presets:

    * QD-DETR / TaskWeave / VideoLights (default):
      ``[SaliencyHingeLoss, RankContrastiveLoss(with_neg=True), NegPairLoss]``.
    * TR-DETR: ``[SaliencyHingeLoss, RankContrastiveLoss(with_neg=False)]``.
    * Moment-DETR: ``[SaliencyHingeLoss]``.

    Args:
        terms (Sequence[dict | nn.Module]): Term configs or modules.
        log_prefix (str): The value of each term is also returned, detached,
            under ``f'{log_prefix}{term.name}'`` (for logging). The prefix
            must not make the key start with ``'loss'``: such keys are
            summed into the total by MMEngine's default ``parse_losses``.
            Defaults to ``'saliency_'``.
    """

    def __init__(self,
                 terms: Sequence[ConfigOrModule] = DEFAULT_TERMS,
                 log_prefix: str = 'saliency_') -> None:
        super().__init__()
        if len(terms) == 0:
            raise ValueError('SaliencyCriterion: terms is empty')
        built: List[nn.Module] = [
            build_part(MODELS, t) for t in terms
        ]
        names = []
        for t in built:
            name = getattr(t, 'name', None)
            if not isinstance(name, str):
                raise ValueError(
                    f'SaliencyCriterion: term {t.__class__.__name__} has no '
                    'string attribute `name`')
            names.append(name)
        if len(set(names)) != len(names):
            raise ValueError(f'SaliencyCriterion: duplicate term names '
                             f'{names}')
        if (log_prefix + names[0]).startswith('loss'):
            raise ValueError(
                f"SaliencyCriterion: log_prefix '{log_prefix}' makes the "
                "logging keys start with 'loss'")
        self.terms = nn.ModuleList(built)
        self.log_prefix = log_prefix

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Dict[str, Tensor]:
        """Compute the saliency loss.

        Args:
            outputs (Mapping): Model outputs: ``saliency_scores`` ``(B, L)``,
                and as the terms need them ``saliency_scores_neg`` ``(B, L)``
                and ``video_mask`` ``(B, L)`` (1 = valid).
            targets (Mapping): ``saliency_pos_labels`` /
                ``saliency_neg_labels`` int64 ``(B, K)`` and, as the terms
                need it, ``saliency_all_labels`` ``(B, L)``.

        Returns:
            dict[str, Tensor]: ``loss_saliency`` and one detached logging
            entry per term.
        """
        values = [term(outputs, targets) for term in self.terms]
        total = values[0]
        for v in values[1:]:
            total = total + v
        result = {'loss_saliency': total}
        for term, v in zip(self.terms, values):
            result[self.log_prefix + term.name] = v.detach()
        return result
