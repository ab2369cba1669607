# Copyright (c) mmmrhd contributors. All rights reserved.
"""Video-text alignment losses on the projected features (TR-DETR).

Both are self-contained loss terms: ``forward(outputs, targets)`` returns
``{name: loss}`` (already multiplied by ``loss_weight``), so any detector
config lists them in ``extra_losses`` and any joint loss picks them up by
key. They read the projected, pre-fusion clip and token features from the
detector outputs (official key names ``src_vid_ed`` / ``src_txt_ed``) and
the padding masks ``video_mask`` / ``text_mask``.

Paper intent vs. release (models.md §9 TR-DETR item 4; fixtures README
quirk 16): the released VTC pools with *unmasked* means (padding included)
and the released CTC averages its BCE over every padded clip too (each
contributes ``log 2``). The default masks both; ``official_compat=True``
reproduces the release.
"""
from typing import Any, Dict, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from .utils import check_shape, get_key


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` ``(B, N, d)`` over the valid positions of ``mask``
    ``(B, N)`` -> ``(B, d)``."""
    m = mask.to(x.dtype)[..., None]
    return (x * m).sum(1) / m.sum(1)


def clip_text_alignment_loss(video: Tensor,
                             text: Tensor,
                             pos_mask: Tensor,
                             video_mask: Tensor,
                             text_mask: Tensor,
                             temperature: float = 0.07,
                             official_compat: bool = False) -> Tensor:
    """Clip-text contrastive (CTC, "local") alignment loss.

    ``g`` = masked mean of the L2-normalised tokens (not re-normalised);
    ``logit_t = <v_t / |v_t|, g> * m_t / tau``; loss = BCE-with-logits
    against ``pos_mask`` (1 at the relevant clips) averaged over the valid
    clips, or over all ``B * L`` positions with ``official_compat``
    (official ``loss_fun/CTCLoss.py``).

    Args:
        video (Tensor): ``(B, L, d)``.
        text (Tensor): ``(B, T, d)``.
        pos_mask (Tensor): ``(B, L)`` binary target.
        video_mask (Tensor): ``(B, L)``, 1 = valid.
        text_mask (Tensor): ``(B, T)``, 1 = valid.
        temperature (float): ``tau``. Defaults to 0.07.
        official_compat (bool): See above.

    Returns:
        Tensor: Scalar loss.
    """
    video = F.normalize(video, dim=2)
    text = F.normalize(text, dim=2)
    tmask = text_mask[..., None].to(text.dtype)
    sentence = torch.sum(text * tmask, dim=1) / torch.sum(tmask, dim=1)
    sim = torch.bmm(video, sentence[..., None]).squeeze(-1)  # (B, L)
    sim = sim * video_mask
    logits = sim / temperature
    target = pos_mask.to(logits.dtype)
    if official_compat:
        return F.binary_cross_entropy_with_logits(logits, target)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    vmask = video_mask.to(bce.dtype)
    return (bce * vmask).sum() / vmask.sum()


def video_text_contrastive_loss(video_global: Tensor,
                                text_global: Tensor,
                                temperature: float = 0.07) -> Tensor:
    """Symmetric InfoNCE between sentence and video vectors of a batch.

    ``S = norm(t) norm(v)^T / tau`` ``(B, B)``, positives on the diagonal;
    loss = ``(CE(S) + CE(S^T)) / 2`` (official ``loss_fun/VTCLoss.py``).
    With ``B = 1`` the loss is 0.

    Args:
        video_global (Tensor): ``(B, d)``.
        text_global (Tensor): ``(B, d)``.
        temperature (float): ``tau``. Defaults to 0.07.

    Returns:
        Tensor: Scalar loss.
    """
    text = F.normalize(text_global, dim=1)
    video = F.normalize(video_global, dim=1)
    logits = torch.mm(text, video.t()) / temperature
    labels = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, labels) +
            F.cross_entropy(logits.t(), labels)) / 2


class _AlignmentLoss(nn.Module):
    """Shared arguments and input checks of the alignment terms."""

    default_name = ''

    def __init__(self, temperature: float, loss_weight: float,
                 official_compat: bool, video_key: str, text_key: str,
                 name: str) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'{type(self).__name__}: temperature must be '
                             f'> 0, got {temperature}')
        if not name.startswith('loss'):
            raise ValueError(f"{type(self).__name__}: name must start with "
                             f"'loss' (it is summed into the total), got "
                             f'{name!r}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.official_compat = official_compat
        self.video_key = video_key
        self.text_key = text_key
        self.name = name

    def extra_repr(self) -> str:
        return (f'name={self.name!r}, temperature={self.temperature}, '
                f'loss_weight={self.loss_weight}, '
                f'official_compat={self.official_compat}')

    def _inputs(self, outputs: Mapping[str, Any]):
        owner = type(self).__name__
        video = get_key(outputs, self.video_key, owner, 'outputs')
        text = get_key(outputs, self.text_key, owner, 'outputs')
        video_mask = get_key(outputs, 'video_mask', owner, 'outputs')
        text_mask = get_key(outputs, 'text_mask', owner, 'outputs')
        check_shape(video, (None, None, None), owner, self.video_key)
        check_shape(text, (video.shape[0], None, video.shape[2]), owner,
                    self.text_key)
        check_shape(video_mask, tuple(video.shape[:2]), owner, 'video_mask')
        check_shape(text_mask, tuple(text.shape[:2]), owner, 'text_mask')
        return video, text, video_mask, text_mask


@MODELS.register_module()
class ClipTextAlignmentLoss(_AlignmentLoss):
    """CTC: clip-level alignment with the sentence (TR-DETR "local").

    See :func:`clip_text_alignment_loss`. The target is
    ``targets['src_pos_mask']`` ``(B, L)`` (collated from the
    ``pos_mask`` of :class:`GeneratePositiveClipMask`).

    Args:
        temperature (float): Defaults to 0.07 (official).
        loss_weight (float): Multiplies the loss. Defaults to 1 (TR-DETR
            configs weight it in their ``WeightedSumLoss``: 0.5 on
            QVHighlights, 2 on TVSum).
        official_compat (bool): BCE mean over padded clips too. Defaults to
            False.
        video_key (str): Clip features in ``outputs``. Defaults to
            ``'src_vid_ed'``.
        text_key (str): Token features in ``outputs``. Defaults to
            ``'src_txt_ed'``.
        name (str): Output key. Defaults to ``'loss_ctc'``.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 loss_weight: float = 1.0,
                 official_compat: bool = False,
                 video_key: str = 'src_vid_ed',
                 text_key: str = 'src_txt_ed',
                 name: str = 'loss_ctc') -> None:
        super().__init__(temperature, loss_weight, official_compat,
                         video_key, text_key, name)

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Dict[str, Tensor]:
        """``{name: loss}``."""
        owner = type(self).__name__
        video, text, video_mask, text_mask = self._inputs(outputs)
        pos_mask = get_key(targets, 'src_pos_mask', owner, 'targets (is '
                           'GeneratePositiveClipMask in the pipeline?)')
        if pos_mask.shape != video_mask.shape:
            raise ValueError(
                f"{owner}: targets['src_pos_mask'] {tuple(pos_mask.shape)} "
                f'does not match the video {tuple(video_mask.shape)} (a '
                'relevant clip id beyond the features grew the mask)')
        loss = clip_text_alignment_loss(video, text, pos_mask, video_mask,
                                        text_mask, self.temperature,
                                        self.official_compat)
        return {self.name: loss * self.loss_weight}


@MODELS.register_module()
class VideoTextContrastiveLoss(_AlignmentLoss):
    """VTC: batch-level video-sentence contrast (TR-DETR "global").

    Global vectors are the mean clip and the mean token of the projected
    features, over the valid positions (default) or over all positions with
    ``official_compat`` (official ``src_vid.mean(1)`` /
    ``src_txt.mean(1)``); then :func:`video_text_contrastive_loss`.

    Args:
        temperature (float): Defaults to 0.07 (official).
        loss_weight (float): Multiplies the loss. Defaults to 1 (TR-DETR
            QVHighlights weight 0.3 lives in its ``WeightedSumLoss``).
        official_compat (bool): Unmasked means. Defaults to False.
        video_key (str): Defaults to ``'src_vid_ed'``.
        text_key (str): Defaults to ``'src_txt_ed'``.
        name (str): Output key. Defaults to ``'loss_vtc'``.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 loss_weight: float = 1.0,
                 official_compat: bool = False,
                 video_key: str = 'src_vid_ed',
                 text_key: str = 'src_txt_ed',
                 name: str = 'loss_vtc') -> None:
        super().__init__(temperature, loss_weight, official_compat,
                         video_key, text_key, name)

    def forward(self, outputs: Mapping[str, Any],
                targets: Mapping[str, Any]) -> Dict[str, Tensor]:
        """``{name: loss}``."""
        video, text, video_mask, text_mask = self._inputs(outputs)
        if self.official_compat:
            video_global, text_global = video.mean(1), text.mean(1)
        else:
            video_global = masked_mean(video, video_mask)
            text_global = masked_mean(text, text_mask)
        loss = video_text_contrastive_loss(video_global, text_global,
                                           self.temperature)
        return {self.name: loss * self.loss_weight}
