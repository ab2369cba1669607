# Copyright (c) mmmrhd contributors. All rights reserved.
"""Moment-DETR (Lei et al., NeurIPS 2021) as composable parts."""
from typing import Any, Dict, Optional

import torch
from torch import Tensor

from mmmrhd.registry import MODELS
from .base_mrhd_detector import BaseMRHDDetector, ConfigOrModule
from .detr_assembly import detr_outputs


@MODELS.register_module()
class MomentDETR(BaseMRHDDetector):
    """Moment-DETR: a vanilla DETR over the concatenated video and text.

    Pipeline (official ``moment_detr/model.py`` L80-135,
    ``transformer.py``)::

        video/text features -> input projections
        -> [video; text] tokens, positions [sine(video); zeros(text)]
        -> self-attention encoder (ReLU FFN) over all tokens
        -> MR: DETR decoder with learned queries over all tokens
               -> class logits, spans = sigmoid(MLP(hs)) (no anchors)
           HD: saliency = Linear(d, 1) on the encoded video tokens

    There is no negative pair: ``saliency_scores_neg`` is never produced
    and the official saliency loss is the hinge alone.

    Paper and released code agree on the maths; ``official_compat=True``
    only keeps the unused official text positional embedding (the parameter
    count is then 4,823,305 at QVHighlights dims) so that official
    checkpoints load strictly.

    Args:
        video_proj (dict): ``InputProjection`` config with the video stream
            layout.
        text_proj (dict): ``InputProjection`` config with the text layout.
        video_pos_embed (dict): Clip positional encoding.
        text_pos_embed (dict): Text positional encoding (official: zeros).
        encoder (dict): ``TransformerEncoder`` config over the concatenated
            tokens (official: ReLU FFN).
        decoder (dict): ``DETRMomentDecoder`` config.
        moment_head (dict): ``MomentHead`` config.
        saliency_head (dict): ``LinearSaliencyHead`` config.
        moment_loss (dict | nn.Module, optional): MR criterion.
        saliency_loss (dict | nn.Module, optional): HD criterion (official:
            the hinge alone).
        joint_loss (dict | nn.Module, optional): Training total. Defaults to
            ``WeightedSumLoss`` with the official weight dict.
        post_processor (dict, optional): Defaults to ``MomentPostProcessor``.
        embed_dim (int): Model width ``d``. Defaults to 256.
        official_compat (bool): See above. Defaults to False.
        keep_unused_text_pos (bool, optional): None = ``official_compat``.
        max_text_len (int): Positions of the unused text embedding
            (official ``max_q_l``). Defaults to 32.
        data_preprocessor (dict | nn.Module, optional): Defaults to
            ``MRHDDataPreprocessor``.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 video_proj: dict,
                 text_proj: dict,
                 video_pos_embed: dict = dict(type='SinePositionalEncoding1D'),
                 text_pos_embed: dict = dict(type='ZeroPositionalEncoding'),
                 encoder: dict = dict(
                     type='TransformerEncoder',
                     num_layers=2,
                     activation='relu'),
                 decoder: dict = dict(
                     type='DETRMomentDecoder', num_layers=2, num_queries=10),
                 moment_head: dict = dict(type='MomentHead'),
                 saliency_head: dict = dict(type='LinearSaliencyHead'),
                 moment_loss: ConfigOrModule = dict(type='MomentCriterion'),
                 saliency_loss: ConfigOrModule = dict(
                     type='SaliencyCriterion',
                     terms=[dict(type='SaliencyHingeLoss', margin=0.2)]),
                 joint_loss: ConfigOrModule = dict(type='WeightedSumLoss'),
                 post_processor: Optional[dict] = dict(
                     type='MomentPostProcessor'),
                 embed_dim: int = 256,
                 official_compat: bool = False,
                 keep_unused_text_pos: Optional[bool] = None,
                 max_text_len: int = 32,
                 data_preprocessor: ConfigOrModule = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            moment_loss=moment_loss,
            saliency_loss=saliency_loss,
            joint_loss=joint_loss,
            post_processor=post_processor,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.embed_dim = embed_dim
        self.official_compat = official_compat
        self._add_input_projections(video_proj, text_proj)
        self._add_positional_encodings(video_pos_embed, text_pos_embed)
        self._add_part('encoder', encoder, embed_dim=embed_dim)
        self._add_detr_heads(decoder, moment_head, saliency_head)
        if keep_unused_text_pos is None:
            keep_unused_text_pos = official_compat
        self._add_unused_text_pos(keep_unused_text_pos, max_text_len)
        self._check_widths({
            f'{name} width': getattr(part, 'out_dim',
                                     getattr(part, 'embed_dim', embed_dim))
            for name, part in (('video_proj', self.video_proj),
                               ('text_proj', self.text_proj),
                               ('decoder', self.decoder),
                               ('saliency_head', self.saliency_head))
        })

    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (see :meth:`BaseMRHDDetector._forward`);
        ``with_neg`` is ignored (Moment-DETR has no negative pair)."""
        video, text, video_mask, text_mask, video_pos, text_pos, _ = \
            self._embed_inputs(inputs)
        src = torch.cat([video, text], 1)
        mask = torch.cat([video_mask, text_mask.to(video_mask.dtype)], 1)
        pos = torch.cat([video_pos, text_pos], 1)
        memory = self.encoder(src, mask, pos)
        hs, references = self.decoder(memory, mask, pos)
        logits, spans = self.moment_head(hs, references)
        return detr_outputs(logits, spans,
                            self.saliency_head(memory[:, :video.shape[1]]),
                            video_mask)
