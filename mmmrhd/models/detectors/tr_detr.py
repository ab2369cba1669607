# Copyright (c) mmmrhd contributors. All rights reserved.
"""TR-DETR (Sun et al., AAAI 2024) as composable parts."""
import inspect
from typing import Any, Dict, Optional, Sequence

from torch import Tensor

from mmmrhd.registry import MODELS
from .base_mrhd_detector import BaseMRHDDetector, ConfigOrModule
from .detr_assembly import detr_outputs

#: The released QVHighlights weights of the alignment losses
#: (``tr_detr/scripts/train.sh``: ``--VTC_loss_coef 0.3 --CTC_loss_coef
#: 0.5``) live in the joint loss; the terms themselves are unweighted.
ALIGNMENT_LOSSES = (dict(type='VideoTextContrastiveLoss'),
                    dict(type='ClipTextAlignmentLoss'))


def _default_compat(cfg: ConfigOrModule, official_compat: bool):
    """``cfg`` with ``official_compat`` filled in when its part takes one."""
    if not isinstance(cfg, dict) or 'official_compat' in cfg:
        return cfg
    cls = MODELS.get(cfg.get('type', ''))
    if cls is None or 'official_compat' not in inspect.signature(
            cls).parameters:
        return cfg
    return dict(cfg, official_compat=official_compat)


@MODELS.register_module()
class TRDETR(BaseMRHDDetector):
    """Task-reciprocal DETR for joint moment retrieval and highlight
    detection.

    Pipeline (official ``tr_detr/model.py`` L116-247, ``transformer.py``
    L110-158; models.md §4.2)::

        video/text features -> input projections: V0, Q0 (kept for the
            alignment losses CTC / VTC)
        -> visual refinement: ContextQueryFuser(V0, Q0) = V1
        -> T2V cross-attention encoder: X        (+ sine PE, zero text PE)
        -> self-attention encoder: M
        -> HD2MR (SaliencyReencoder): s0 = HD head(M),
               M'' = encoder(M + softmax(s0) * X)   (same encoder weights)
        -> MR: DAB moment decoder on M'' + moment head
        -> MR2HD (SpanGRUFeedback): top-1 span of V0 -> GRU -> weights a,
               saliency = HD head(M'' * (1 + a))

    The HD head is ``QuerySaliencyHead(with_global=False)``: ``s_t =
    sum_c(W1 m_t + b1) / sqrt(d)`` (official ``saliency_proj1``), used both
    for ``s0`` (no loss) and for the output. There is no negative pair.
    Losses: Hungarian set losses with the sigmoid focal label loss,
    ``hinge + rank-contrastive`` saliency (no negative-pair term), and the
    alignment losses (``extra_losses``), summed by ``WeightedSumLoss``.

    ``official_compat=True`` sets the default ``official_compat`` of the
    parts (fixtures README quirks 1, 14-16): the released T2V attention mask,
    softmax of HD2MR over padded clips, MR2HD's Python slicing / GRU over
    padding / dot-product weights, unmasked VTC means and CTC over padded
    clips, and keeps the unused text positional embedding (8,308,773
    parameters at QVHighlights dims, as the release).

    Args:
        video_proj (dict): ``InputProjection`` config (video layout).
        text_proj (dict): ``InputProjection`` config (text layout).
        video_pos_embed (dict): Clip positional encoding.
        text_pos_embed (dict): Text positional encoding (official: zeros).
        refiner (dict, optional): Visual refinement before the fusion
            (``ContextQueryFuser``); None = none.
        fusion (dict): ``T2VEncoder`` config.
        encoder (dict): ``TransformerEncoder`` config.
        hd2mr (dict, optional): ``SaliencyReencoder`` config; None = the
            decoder reads ``M`` directly.
        decoder (dict): ``DABMomentDecoder`` config.
        moment_head (dict): ``MomentHead`` config.
        saliency_head (dict): ``QuerySaliencyHead`` (without global token).
        mr2hd (dict, optional): ``SpanGRUFeedback`` config; None = saliency
            of ``M''``.
        moment_loss (dict | nn.Module, optional): MR criterion.
        saliency_loss (dict | nn.Module, optional): HD criterion.
        extra_losses (Sequence[dict | nn.Module], optional): Further terms;
            None = the CTC and VTC alignment losses. Configs that do not set
            ``official_compat`` get this model's.
        joint_loss (dict | nn.Module, optional): Training total.
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
                 refiner: Optional[dict] = dict(type='ContextQueryFuser'),
                 fusion: dict = dict(type='T2VEncoder', num_layers=2),
                 encoder: dict = dict(type='TransformerEncoder', num_layers=2),
                 hd2mr: Optional[dict] = dict(type='SaliencyReencoder'),
                 decoder: dict = dict(
                     type='DABMomentDecoder', num_layers=2, num_queries=10),
                 moment_head: dict = dict(type='MomentHead'),
                 saliency_head: dict = dict(
                     type='QuerySaliencyHead', with_global=False),
                 mr2hd: Optional[dict] = dict(type='SpanGRUFeedback'),
                 moment_loss: ConfigOrModule = dict(
                     type='MomentCriterion',
                     loss_label=dict(type='SigmoidFocalLabelLoss')),
                 saliency_loss: ConfigOrModule = dict(
                     type='SaliencyCriterion',
                     terms=[
                         dict(type='SaliencyHingeLoss', margin=0.2),
                         dict(type='RankContrastiveLoss', with_neg=False)
                     ]),
                 extra_losses: Optional[Sequence[ConfigOrModule]] = None,
                 joint_loss: ConfigOrModule = dict(
                     type='WeightedSumLoss',
                     weights=dict(
                         loss_span=10.0,
                         loss_giou=1.0,
                         loss_label=4.0,
                         loss_saliency=1.0,
                         loss_vtc=0.3,
                         loss_ctc=0.5),
                     aux_exclude=('loss_saliency', 'loss_vtc', 'loss_ctc')),
                 post_processor: Optional[dict] = dict(
                     type='MomentPostProcessor'),
                 embed_dim: int = 256,
                 official_compat: bool = False,
                 keep_unused_text_pos: Optional[bool] = None,
                 max_text_len: int = 32,
                 data_preprocessor: ConfigOrModule = None,
                 init_cfg: Optional[dict] = None) -> None:
        d, oc = embed_dim, official_compat
        if extra_losses is None:
            extra_losses = ALIGNMENT_LOSSES
        extra_losses = [_default_compat(cfg, oc) for cfg in extra_losses]
        super().__init__(
            moment_loss=moment_loss,
            saliency_loss=saliency_loss,
            joint_loss=joint_loss,
            post_processor=post_processor,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            extra_losses=extra_losses)
        self.embed_dim = d
        self.official_compat = official_compat
        self._add_input_projections(video_proj, text_proj)
        self._add_positional_encodings(video_pos_embed, text_pos_embed)
        self._add_optional_part('refiner', refiner, embed_dim=d)
        self._add_part('fusion', fusion, embed_dim=d, official_compat=oc)
        self._add_part('encoder', encoder, embed_dim=d)
        self._add_optional_part('hd2mr', hd2mr, official_compat=oc)
        self._add_detr_heads(decoder, moment_head, saliency_head)
        self._add_optional_part(
            'mr2hd', mr2hd, embed_dim=d, official_compat=oc)
        if keep_unused_text_pos is None:
            keep_unused_text_pos = official_compat
        self._add_unused_text_pos(keep_unused_text_pos, max_text_len)
        self._check_parts()

    def _check_parts(self) -> None:
        self._check_widths(self._part_widths('refiner', 'mr2hd'))
        if getattr(self.saliency_head, 'with_global', False):
            raise ValueError('TRDETR: the saliency head must not use a '
                             'global token (TR-DETR has none); set '
                             'with_global=False')

    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (see :meth:`BaseMRHDDetector._forward`; ``with_neg``
        is ignored, TR-DETR has no negative pair) and ``text_mask``, the
        projected features ``src_vid_ed`` ``(B, L, d)``, ``src_txt_ed``
        ``(B, T, d)`` and their unmasked means ``src_vid_cls_ed`` /
        ``src_txt_cls_ed`` ``(B, d)`` (official outputs of the alignment
        losses)."""
        refined, text, video_mask, text_mask, video_pos, text_pos, video = \
            self._embed_inputs(inputs, self.refiner)  # V1, Q0, ..., V0
        fused = self.fusion(refined, text, video_mask, text_mask, video_pos,
                            text_pos)
        memory = self.encoder(fused, video_mask, video_pos)
        if self.hd2mr is not None:
            memory = self.hd2mr(
                memory, fused, self.saliency_head(memory), video_mask,
                lambda m: self.encoder(m, video_mask, video_pos))
        hs, references = self.decoder(memory, video_mask, video_pos)
        logits, spans = self.moment_head(hs, references)
        hd_memory = memory
        if self.mr2hd is not None:
            hd_memory, _ = self.mr2hd(logits[-1], spans[-1], video, memory,
                                      video_mask)
        return detr_outputs(
            logits,
            spans,
            self.saliency_head(hd_memory),
            video_mask,
            text_mask=text_mask,
            src_vid_ed=video,
            src_txt_ed=text,
            src_vid_cls_ed=video.mean(1),
            src_txt_cls_ed=text.mean(1))
