# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights' alignment loss: query-text NCE + video-text cosine term."""
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .saliency_cos_sim_loss import cos_sim_loss, normalized_saliency_pair
from .utils import check_shape, get_key

MatchIndices = Sequence[Tuple[Tensor, Tensor]]


def query_text_nce(proj_queries: Tensor, proj_text: Tensor,
                   indices: MatchIndices, temperature: float) -> Tensor:
    """Moment-DETR span-token contrastive loss (VideoLights eq. 4).

    ``logits_bm = sum_n <q_bm, t_bn> / tau``; per sample
    ``-mean(logits of matched queries) + logsumexp_m(logits_bm)``, averaged
    over the batch (official ``loss_contrastive_align``, ``model.py``
    L529-547; all text positions are summed, padding included).

    Args:
        proj_queries (Tensor): L2-normalised query projections
            ``(B, Q, c)``.
        proj_text (Tensor): L2-normalised text projections ``(B, T, c)``.
        indices (Sequence): Per sample ``(pred_idx, tgt_idx)`` of the
            matcher.
        temperature (float): ``tau``.

    Returns:
        Tensor: Scalar loss.
    """
    logits = torch.einsum('bmd,bnd->bmn', proj_queries, proj_text)
    logits = logits.sum(2) / temperature  # (B, Q)
    batch_idx = torch.cat(
        [torch.full_like(src, i) for i, (src, _) in enumerate(indices)])
    src_idx = torch.cat([src for src, _ in indices])
    positive = torch.zeros_like(logits, dtype=torch.bool)
    positive[batch_idx.to(logits.device), src_idx.to(logits.device)] = True
    pos_term = logits.masked_fill(~positive, 0).sum(1)
    num_pos = positive.sum(1)
    return (-pos_term / num_pos + logits.logsumexp(1)).mean()


def video_text_align(text: Tensor, video: Tensor, text_mask: Tensor,
                     video_mask: Tensor, labels: Tensor,
                     official: bool) -> Tensor:
    """Video-text alignment of FRA (VideoLights eq. 5-6).

    The sentence embedding (mean of the projected tokens) is compared by
    cosine with every refined clip; these scores are scored against the GT
    saliency as in :class:`SaliencyCosSimLoss`. Official
    (``loss_align_vid_txt``, ``model.py`` L549-581): unmasked token mean,
    batch-global normalisation, SUM over the batch. Default: masked token
    mean, per-sample normalisation, mean over the batch (eq. 6's 1/B).

    Args:
        text (Tensor): Projected tokens ``(B, T, d)``.
        video (Tensor): Refined clips ``(B, L, d)``.
        text_mask (Tensor): ``(B, T)``, 1 = valid.
        video_mask (Tensor): ``(B, L)``, 1 = valid.
        labels (Tensor): GT saliency ``(B, L)``.
        official (bool): See above.

    Returns:
        Tensor: Scalar loss.
    """
    if official:
        sentence = text.mean(dim=1)
    else:
        m = text_mask.to(text.dtype).unsqueeze(-1)
        sentence = (text * m).sum(1) / m.sum(1).clamp(min=1)
    scores = F.cosine_similarity(sentence.unsqueeze(1), video, dim=-1)
    s, y = normalized_saliency_pair(scores, labels, video_mask, official)
    return cos_sim_loss(s, y, 'sum' if official else 'mean')


@MODELS.register_module()
class ContrastiveAlignLoss(nn.Module):
    """``loss_contrastive_align`` of VideoLights (paper eq. 7).

    For the final decoder layer: :func:`query_text_nce` +
    :func:`video_text_align`; for every auxiliary layer ``i``
    (``loss_contrastive_align_<i>``) the NCE term only (official: plus
    ``torch.zeros(1)``, which makes the key ``(1,)``-shaped; kept in
    official-compat mode so that the total has the official shape). The
    matching comes from the moment criterion of the same forward (one list
    per layer, final first), so this loss takes ``indices`` as a third
    argument.

    Args:
        temperature (float): NCE temperature (official ``--temperature``
            0.07).
        with_video_text (bool): Add :func:`video_text_align` on the final
            layer (VideoLights; Moment-DETR's own loss has only the NCE).
            Defaults to True.
        official_compat (bool): See above and :func:`video_text_align`.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 with_video_text: bool = True,
                 official_compat: bool = False) -> None:
        super().__init__()
        self.temperature = temperature
        self.with_video_text = with_video_text
        self.official_compat = official_compat

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, with_video_text='
                f'{self.with_video_text}, official_compat='
                f'{self.official_compat}')

    def forward(self, outputs: Mapping[str, Any], targets: Mapping[str, Any],
                indices: List[MatchIndices]) -> Dict[str, Tensor]:
        """Compute the loss of the final and auxiliary layers.

        Args:
            outputs (Mapping): ``proj_queries`` ``(B, Q, c)``,
                ``proj_txt_mem`` ``(B, T, c)``, ``aux_outputs`` (each with
                ``proj_queries``); for the video-text term ``src_txt``
                ``(B, T, d)``, ``src_vid`` ``(B, L, d)``, ``text_mask``,
                ``video_mask``.
            targets (Mapping): ``saliency_all_labels`` ``(B, L)`` for the
                video-text term.
            indices (list): Matching per layer (final first), e.g.
                ``MomentCriterion.last_indices``.

        Returns:
            dict[str, Tensor]: ``loss_contrastive_align`` and
            ``loss_contrastive_align_<i>``.
        """
        owner = type(self).__name__
        aux = outputs.get('aux_outputs') or []
        if len(indices) != 1 + len(aux):
            raise ValueError(f'{owner}: got the matching of {len(indices)} '
                             f'layer(s) for {1 + len(aux)} decoder layer(s)')
        text = get_key(outputs, 'proj_txt_mem', owner, 'outputs')
        losses = {}
        for i, layer in enumerate([outputs] + list(aux)):
            queries = get_key(layer, 'proj_queries', owner,
                              'outputs' if i == 0 else f'aux_outputs[{i-1}]')
            check_shape(queries, (text.shape[0], None, text.shape[-1]), owner,
                        'proj_queries')
            loss = query_text_nce(queries, text, indices[i], self.temperature)
            key = 'loss_contrastive_align' + ('' if i == 0 else f'_{i - 1}')
            if i == 0 and self.with_video_text:
                loss = loss + video_text_align(
                    get_key(outputs, 'src_txt', owner, 'outputs'),
                    get_key(outputs, 'src_vid', owner, 'outputs'),
                    outputs.get('text_mask') if self.official_compat else
                    get_key(outputs, 'text_mask', owner, 'outputs'),
                    get_key(outputs, 'video_mask', owner, 'outputs'),
                    get_key(targets, 'saliency_all_labels', owner, 'targets'),
                    self.official_compat)
            elif i > 0 and self.official_compat and self.with_video_text:
                loss = loss + loss.new_zeros(1)
            losses[key] = loss
        return losses
