# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave (Yang et al., CVPR 2024) as composable parts."""
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmmrhd.registry import MODELS
from ..feedback.feedback_head import apply_feedback_mask
from .base_mrhd_detector import BaseMRHDDetector, ConfigOrModule
from .detr_assembly import detr_outputs


@MODELS.register_module()
class TaskWeave(BaseMRHDDetector):
    """Task-driven joint moment retrieval and highlight detection.

    Pipeline (paper §3, official ``taskweave/model.py`` +
    ``transformer.py``)::

        video/text features -> input projections (+ sine PE / zero text PE)
        -> T2V cross-attention fusion -> temporal max-pool
        -> task-decoupled unit: X_mr, X_hd
        -> MR: DAB moment decoder + moment head (logits, spans per layer)
           HD: lightweight HD decoder (saliency per clip)
        with inter-task feedback (FeedbackHead) when ``feedback_active``.

    The negative pair (text rolled by -1 along the batch, official) runs the
    fusion and the HD stream only, without feedback, for
    ``saliency_scores_neg``; it is stacked with the positive pass along the
    batch (one fusion call on ``2B`` samples, one shared-expert call for
    all streams). Passes whose MR or HD output is unused skip that stream
    (e.g. the MR decoder of the released HD2MR pass 1 and of the negative
    pass); outputs, losses and gradients are unchanged.

    ``feedback_active`` is the switch of the feedback head (default True,
    so inference has feedback, as the official ``epoch_i=None``); a hook
    (``FeedbackActivationHook``) switches it per epoch.

    ``official_compat=True`` switches every part to the released behaviour
    by setting the default of each part's own ``official_compat`` flag
    (fusion attention mask of quirk 1, max-pool over padding, inverted CNN
    expert mask, feedback per quirks 10/11) and keeps the unused official
    text positional-embedding parameters (``unused_text_pos_embed``), so
    that the parameter count (7,784,488 at QVHighlights dims) and official
    checkpoints match. A part config that sets ``official_compat`` itself
    wins, so ablations can mix.

    Args:
        video_proj (dict): ``InputProjection`` config with the video stream
            layout.
        text_proj (dict): ``InputProjection`` config with the text layout.
        video_pos_embed (dict): Clip positional encoding.
        text_pos_embed (dict): Text positional encoding (official: zeros).
        fusion (dict): ``T2VEncoder`` config.
        fusion_pool (dict): Pooling after the fusion (``TemporalMaxPool``).
        neck (dict): ``TaskDecoupledUnit`` config.
        decoder (dict): ``DABMomentDecoder`` config.
        moment_head (dict): ``MomentHead`` config.
        saliency_head (dict): ``LightweightHDHead`` config.
        feedback (dict, optional): ``FeedbackHead`` config; None = no
            feedback at all.
        moment_loss (dict | nn.Module, optional): MR criterion. Defaults to
            ``MomentCriterion``.
        saliency_loss (dict | nn.Module, optional): HD criterion. Defaults
            to ``SaliencyCriterion``.
        joint_loss (dict | nn.Module, optional): Training total. Defaults to
            ``UncertaintyJointLoss`` (learnable log-variances, official
            ``hd_log_var`` / ``mr_log_var``).
        post_processor (dict, optional): Defaults to
            ``MomentPostProcessor``.
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
        extra_losses (Sequence[dict | nn.Module]): Further loss terms (see
            :class:`BaseMRHDDetector`), e.g. TR-DETR's alignment losses on
            the projected features (``configs/mixed/``). Defaults to none.
    """

    def __init__(self,
                 video_proj: dict,
                 text_proj: dict,
                 video_pos_embed: dict = dict(type='SinePositionalEncoding1D'),
                 text_pos_embed: dict = dict(type='ZeroPositionalEncoding'),
                 fusion: dict = dict(type='T2VEncoder', num_layers=2),
                 fusion_pool: dict = dict(
                     type='TemporalMaxPool', kernel_size=5),
                 neck: dict = dict(type='TaskDecoupledUnit'),
                 decoder: dict = dict(
                     type='DABMomentDecoder', num_layers=2, num_queries=10),
                 moment_head: dict = dict(type='MomentHead'),
                 saliency_head: dict = dict(type='LightweightHDHead'),
                 feedback: Optional[dict] = dict(
                     type='FeedbackHead', manner='hd2mr'),
                 moment_loss: ConfigOrModule = dict(type='MomentCriterion'),
                 saliency_loss: ConfigOrModule = dict(
                     type='SaliencyCriterion'),
                 joint_loss: ConfigOrModule = dict(
                     type='UncertaintyJointLoss'),
                 post_processor: Optional[dict] = dict(
                     type='MomentPostProcessor'),
                 embed_dim: int = 256,
                 official_compat: bool = False,
                 keep_unused_text_pos: Optional[bool] = None,
                 max_text_len: int = 32,
                 data_preprocessor: ConfigOrModule = None,
                 init_cfg: Optional[dict] = None,
                 extra_losses: Sequence[ConfigOrModule] = ()) -> None:
        super().__init__(
            moment_loss=moment_loss,
            saliency_loss=saliency_loss,
            joint_loss=joint_loss,
            post_processor=post_processor,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            extra_losses=extra_losses)
        d, oc = embed_dim, official_compat
        self.embed_dim = d
        self.official_compat = official_compat
        self._add_input_projections(video_proj, text_proj)
        self._add_positional_encodings(video_pos_embed, text_pos_embed)
        self._add_part('fusion', fusion, embed_dim=d, official_compat=oc)
        self._add_part('fusion_pool', fusion_pool, official_compat=oc)
        self._add_part('neck', neck, embed_dim=d, official_compat=oc)
        self._add_detr_heads(decoder, moment_head, saliency_head)
        self._add_optional_part('feedback', feedback, official_compat=oc)
        if keep_unused_text_pos is None:
            keep_unused_text_pos = official_compat
        self._add_unused_text_pos(keep_unused_text_pos, max_text_len)
        self._check_widths(self._part_widths())

    @property
    def feedback_active(self) -> bool:
        """Whether inter-task feedback runs: the switch of ``feedback``.

        The switch lives on the :class:`FeedbackHead` (which
        ``FeedbackActivationHook`` sets); this property reads and writes it.
        Always False without a feedback head; setting it then has no effect.
        """
        return self.feedback is not None and self.feedback.feedback_active

    @feedback_active.setter
    def feedback_active(self, value: bool) -> None:
        if self.feedback is not None:
            self.feedback.feedback_active = bool(value)

    # ------------------------------------------------------------ passes
    def _fuse(self,
              video: Tensor,
              text: Tensor,
              video_mask: Tensor,
              text_mask: Tensor,
              video_pos: Tensor,
              text_pos: Optional[Tensor],
              attn_mask: Optional[Tensor] = None) -> Tensor:
        """Fusion -> temporal pool: ``Z`` ``(B, L, d)``."""
        z = self.fusion(video, text, video_mask, text_mask, video_pos,
                        text_pos, attn_mask)
        return self.fusion_pool(z, video_mask)

    def _encode(self, video: Tensor, text: Tensor, video_mask: Tensor,
                text_mask: Tensor, video_pos: Tensor,
                text_pos: Optional[Tensor],
                tasks: Sequence[str]) -> Dict[str, Tensor]:
        """Fusion -> pool -> task-decoupled unit.

        Returns:
            dict[str, Tensor]: ``X_mr`` / ``X_hd`` ``(B, L, d)`` as asked.
        """
        z = self._fuse(video, text, video_mask, text_mask, video_pos, text_pos)
        return self.neck(z, video_mask, video_pos, tasks)

    def _encode_with_negative(
            self, video: Tensor, text: Tensor, video_mask: Tensor,
            text_mask: Tensor, video_pos: Tensor, text_pos: Optional[Tensor],
            tasks: Sequence[str]) -> Tuple[Dict[str, Tensor], Tensor]:
        """:meth:`_encode` plus ``X_hd`` of the negative pair in one batch.

        The negative pair is the video with the text rolled by -1 along the
        batch (official ``model.py`` L205-210). Both passes are stacked
        along the batch for the fusion, the pooling and the HD stream (each
        sample is processed independently; the official-compat fusion mask
        is built per pass, so its batch/head layout is that of a batch of
        ``B``).

        Returns:
            tuple: Task features of the positive pass and ``X_hd`` of the
            negative pass ``(B, L, d)``.
        """
        b = video.shape[0]
        stacked, text_mask_neg = self._stack_negative(
            video, text, video_mask, text_mask, video_pos, text_pos)
        attn_mask = torch.cat([
            self.fusion.build_attn_mask(video_mask, text_mask),
            self.fusion.build_attn_mask(video_mask, text_mask_neg)
        ])
        z = self._fuse(*stacked, attn_mask)
        video_mask2, video_pos2 = stacked[2], stacked[4]
        streams = {}
        if 'mr' in tasks:
            streams['mr'] = (z[:b], video_mask, video_pos)
        streams['hd'] = (z, video_mask2, video_pos2)
        mem = self.neck.forward_streams(streams)
        hd_neg = mem['hd'][b:]
        mem['hd'] = mem['hd'][:b]
        return mem, hd_neg

    def _decode_mr(self, x_mr: Tensor, video_mask: Tensor,
                   video_pos: Tensor) -> Tuple[Tensor, Tensor]:
        """Decoder + moment head: logits and spans ``(n_dec, B, Q, 2)``."""
        hs, references = self.decoder(x_mr, video_mask, video_pos)
        return self.moment_head(hs, references)

    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (see :meth:`BaseMRHDDetector._forward`) and
        ``text_mask`` ``(B, T)``, the projected features ``src_vid_ed``
        ``(B, L, d)`` / ``src_txt_ed`` ``(B, T, d)`` (read by alignment
        losses) and, with ``with_neg``, ``saliency_scores_neg`` ``(B, L)``."""
        video, text, video_mask, text_mask, video_pos, text_pos, _ = \
            self._embed_inputs(inputs)
        with_feedback = self.feedback_active
        tasks = self.feedback.required_tasks if with_feedback else ('mr', 'hd')
        if with_neg:
            mem, hd_neg = self._encode_with_negative(video, text, video_mask,
                                                     text_mask, video_pos,
                                                     text_pos, tasks)
        else:
            mem = self._encode(video, text, video_mask, text_mask, video_pos,
                               text_pos, tasks)

        def decode_mr(x_mr: Tensor) -> Tuple[Tensor, Tensor]:
            return self._decode_mr(x_mr, video_mask, video_pos)

        def reencode_mr(mask: Tensor) -> Tensor:
            return self._encode(
                apply_feedback_mask(video, mask), text, video_mask, text_mask,
                video_pos, text_pos, ('mr', ))['mr']

        if with_feedback:
            (logits, spans), saliency = self.feedback(
                mem.get('mr'), mem['hd'], video_mask, decode_mr,
                self.saliency_head, reencode_mr)
        else:
            logits, spans = decode_mr(mem['mr'])
            saliency = self.saliency_head(mem['hd'])

        out = detr_outputs(
            logits,
            spans,
            saliency,
            video_mask,
            text_mask=text_mask,
            src_vid_ed=video,
            src_txt_ed=text)
        if with_neg:
            out['saliency_scores_neg'] = self.saliency_head(hd_neg)
        return out
