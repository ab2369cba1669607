# Copyright (c) mmmrhd contributors. All rights reserved.
"""HD -> MR feedback by saliency-weighted re-encoding (TR-DETR HD2MR)."""
from typing import Callable

from torch import Tensor, nn

from mmmrhd.registry import MODELS
from ..layers.weighted_pool import mask_logits


@MODELS.register_module()
class SaliencyReencoder(nn.Module):
    """``M'' = encode(M + softmax(s) * X)``: highlight-guided memory.

    TR-DETR's HD2MR (official ``transformer.py`` L148-158; models.md §4.2
    item 6): the preliminary clip saliency ``s`` (the detector's HD head on
    the encoder memory ``M``) is turned into clip weights by a softmax over
    the clips, the weighted fused clips ``X`` (the T2V output) are added to
    ``M`` and the sum is encoded again, in TR-DETR by the same encoder
    (``encode`` is a callable, so the weights are shared by construction).
    ``s`` itself gets no loss.

    By default the softmax runs over the valid clips only;
    ``official_compat=True`` includes the padded clips (fixtures README
    quirk 15). The module has no parameters.

    Args:
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self, official_compat: bool = False) -> None:
        super().__init__()
        self.official_compat = official_compat

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def weights(self, saliency: Tensor, video_mask: Tensor) -> Tensor:
        """Clip weights ``(B, L)`` (softmax over the clips)."""
        if not self.official_compat:
            saliency = mask_logits(saliency, video_mask)
        return saliency.softmax(dim=-1)

    def forward(self, memory: Tensor, clip_feats: Tensor, saliency: Tensor,
                video_mask: Tensor, encode: Callable[[Tensor],
                                                     Tensor]) -> Tensor:
        """Re-encode the memory.

        Args:
            memory (Tensor): ``M`` ``(B, L, d)``.
            clip_feats (Tensor): ``X`` ``(B, L, d)``.
            saliency (Tensor): ``s`` ``(B, L)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid.
            encode (Callable): ``(B, L, d) -> (B, L, d)``.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        if saliency.shape != memory.shape[:2] or \
                clip_feats.shape != memory.shape:
            raise ValueError(
                f'SaliencyReencoder: memory {tuple(memory.shape)}, clip_feats '
                f'{tuple(clip_feats.shape)} and saliency '
                f'{tuple(saliency.shape)} do not match')
        w = self.weights(saliency, video_mask)
        return encode(memory + clip_feats * w[..., None])
