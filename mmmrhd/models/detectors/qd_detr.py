# Copyright (c) mmmrhd contributors. All rights reserved.
"""QD-DETR (Moon et al., CVPR 2023) as composable parts."""
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from mmmrhd.registry import MODELS
from ..layers.global_token import GlobalToken
from .base_mrhd_detector import BaseMRHDDetector, ConfigOrModule
from .detr_assembly import detr_outputs


@MODELS.register_module()
class QDDETR(BaseMRHDDetector):
    """Query-dependent DETR for joint moment retrieval and highlight
    detection.

    Pipeline (paper §3; official ``qd_detr/model.py`` L22-188,
    ``transformer.py`` L58-143)::

        video/text features -> input projections (+ sine PE / zero text PE)
        -> T2V cross-attention encoder (video queries, text keys/values)
        -> prepend the learned global (saliency) token
        -> self-attention encoder over [global; clips]
        -> MR: DAB moment decoder on the clips + moment head
           HD: query-dependent saliency <W1 m_t, W2 g> / sqrt(d)

    The negative pair (text rolled by -1 along the batch, official
    L159-175) runs the T2V encoder, the global token, the encoder and the
    saliency head (not the decoder) for ``saliency_scores_neg``; it is
    stacked with the positive pass along the batch (one call per part on
    ``2B`` samples; each sample is processed independently, and the
    official-compat fusion mask is built per pass so its batch/head layout
    is that of a batch of ``B``).

    ``official_compat=True`` sets the default of the parts' own
    ``official_compat`` flag (the released T2V attention mask with its
    batch/head mis-ordering, fixtures README quirk 1) and keeps the unused
    official text positional embedding, so that the parameter count
    (7,585,573 at QVHighlights dims) and official checkpoints match.
    QD-DETR has no other deviation between paper and code that changes the
    maths (models.md §9: the rank-contrastive loss divides by 12, which
    both modes keep, see ``RankContrastiveLoss``).

    Args:
        video_proj (dict): ``InputProjection`` config with the video stream
            layout.
        text_proj (dict): ``InputProjection`` config with the text layout.
        video_pos_embed (dict): Clip positional encoding.
        text_pos_embed (dict): Text positional encoding (official: zeros).
        fusion (dict): ``T2VEncoder`` config.
        global_token (dict, optional): ``GlobalToken`` config; None = no
            global token (then the saliency head must not use one).
        encoder (dict): ``TransformerEncoder`` config (over the global
            token and the clips).
        decoder (dict): ``DABMomentDecoder`` config.
        moment_head (dict): ``MomentHead`` config.
        saliency_head (dict): ``QuerySaliencyHead`` config.
        moment_loss (dict | nn.Module, optional): MR criterion.
        saliency_loss (dict | nn.Module, optional): HD criterion (official:
            hinge + rank-contrastive + negative pair).
        joint_loss (dict | nn.Module, optional): Training total. Defaults to
            ``WeightedSumLoss`` with the official weight dict.
        post_processor (dict, optional): Defaults to ``MomentPostProcessor``.
        embed_dim (int): Model width ``d``, filled into every part config
            that does not set it. Defaults to 256.
        official_compat (bool): See above. Defaults to False.
        keep_unused_text_pos (bool, optional): Keep the unused official text
            positional embedding. None = ``official_compat``.
        max_text_len (int): Its number of positions (official ``max_q_l``).
            Defaults to 32.
        data_preprocessor (dict | nn.Module, optional): Defaults to
            ``MRHDDataPreprocessor``.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 video_proj: dict,
                 text_proj: dict,
                 video_pos_embed: dict = dict(type='SinePositionalEncoding1D'),
                 text_pos_embed: dict = dict(type='ZeroPositionalEncoding'),
                 fusion: dict = dict(type='T2VEncoder', num_layers=2),
                 global_token: Optional[dict] = dict(type='GlobalToken'),
                 encoder: dict = dict(type='TransformerEncoder', num_layers=2),
                 decoder: dict = dict(
                     type='DABMomentDecoder', num_layers=2, num_queries=10),
                 moment_head: dict = dict(type='MomentHead'),
                 saliency_head: dict = dict(type='QuerySaliencyHead'),
                 moment_loss: ConfigOrModule = dict(type='MomentCriterion'),
                 saliency_loss: ConfigOrModule = dict(
                     type='SaliencyCriterion'),
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
        d = self.embed_dim = embed_dim
        self.official_compat = official_compat
        self._add_input_projections(video_proj, text_proj)
        self._add_positional_encodings(video_pos_embed, text_pos_embed)
        self._add_part(
            'fusion', fusion, embed_dim=d, official_compat=official_compat)
        self._add_optional_part('global_token', global_token, embed_dim=d)
        self._add_part('encoder', encoder, embed_dim=d)
        self._add_detr_heads(decoder, moment_head, saliency_head)
        if keep_unused_text_pos is None:
            keep_unused_text_pos = official_compat
        self._add_unused_text_pos(keep_unused_text_pos, max_text_len)
        self._check_parts()

    def _check_parts(self) -> None:
        self._check_widths(self._part_widths())
        uses_global = getattr(self.saliency_head, 'with_global', False)
        if uses_global != (self.global_token is not None):
            raise ValueError(
                'QDDETR: the saliency head '
                f"{'needs' if uses_global else 'takes no'} global token but "
                f"global_token is {'None' if uses_global else 'set'}")

    # ------------------------------------------------------------ passes
    def _encode(self, video: Tensor, text: Tensor, video_mask: Tensor,
                text_mask: Tensor, video_pos: Tensor,
                text_pos: Optional[Tensor],
                attn_mask: Optional[Tensor]) -> Tuple[Optional[Tensor],
                                                      Tensor]:
        """T2V fusion -> [global; clips] -> encoder.

        Returns:
            tuple: Encoded global token ``(B, d)`` (None without one) and
            clips ``(B, L, d)``.
        """
        z = self.fusion(video, text, video_mask, text_mask, video_pos,
                        text_pos, attn_mask)
        if self.global_token is None:
            return None, self.encoder(z, video_mask, video_pos)
        x, mask, pos = self.global_token(z, video_mask, video_pos)
        return GlobalToken.split(self.encoder(x, mask, pos))

    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (see :meth:`BaseMRHDDetector._forward`), with
        ``with_neg`` also ``saliency_scores_neg`` ``(B, L)``."""
        video, text, video_mask, text_mask, video_pos, text_pos, _ = \
            self._embed_inputs(inputs)
        b = video.shape[0]
        if with_neg:
            stacked, text_mask_neg = self._stack_negative(
                video, text, video_mask, text_mask, video_pos, text_pos)
            attn_mask = torch.cat([
                self.fusion.build_attn_mask(video_mask, text_mask),
                self.fusion.build_attn_mask(video_mask, text_mask_neg)
            ])
            g, mem = self._encode(*stacked, attn_mask)
        else:
            g, mem = self._encode(video, text, video_mask, text_mask,
                                  video_pos, text_pos, None)
        hs, references = self.decoder(mem[:b], video_mask, video_pos)
        logits, spans = self.moment_head(hs, references)
        saliency = self.saliency_head(mem, g)
        out = detr_outputs(logits, spans, saliency[:b], video_mask)
        if with_neg:
            out['saliency_scores_neg'] = saliency[b:]
        return out
