# Copyright (c) mmmrhd contributors. All rights reserved.
"""VideoLights (Paul et al., 2024) as composable parts."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.datasets.collate import collate_targets
from mmmrhd.registry import MODELS, build_part
from .base_mrhd_detector import BaseMRHDDetector, ConfigOrModule
from .detr_assembly import detr_outputs, part_cfg


@MODELS.register_module()
class VideoLights(BaseMRHDDetector):
    """Feature refinement and cross-task alignment transformer for joint
    MR/HD.

    Pipeline (paper Fig. 2, official ``video_lights/model.py`` L135-250 and
    ``transformer.py`` L60-172)::

        V0 = video_proj(video)  Q0 = text_proj(text)      (FRA stage 1)
        V1 = feature_refinement(V0, Q0)                    (FRA stage 2)
        [g; V1'] = fusion(V1, Q0) with the global token g  (Bi-CMF)
        [g'; M] = encoder([g; V1'])                        (self-attention)
        MR: decoder(M) -> moment_head -> logits, spans
        HD: saliency_head(M, g')
        Uni-JFM: feedback(top-1 span, V0, M) -> feedback_head ->
                 saliency_scores_mr (training loss only)
        negative pair: the text rolled by -1 along the batch, with the
                 clips refined against the POSITIVE text (official).

    Losses: ``moment_loss`` (set losses per decoder layer),
    ``saliency_loss`` (QD terms + cos-sim, MR->HD and adaptive hard terms)
    and ``align_loss`` (query-text NCE per layer + FRA video-text term),
    combined by ``joint_loss`` (official weight dict).

    ``official_compat=True`` sets the default of every part's own
    ``official_compat`` flag (FR correlation branch, Bi-CMF masks and
    residuals, Uni-JFM slicing, cos-sim normalisation and reductions) and
    keeps the two official parameters that are never used (the text
    positional embedding and ``contrastive_align_projection_vid``) so that
    the parameter count (10,399,975 at 2818/512 input dims) and official
    checkpoints match. A part config that sets ``official_compat`` wins.

    Args:
        video_proj (dict): ``InputProjection`` of the video streams.
        text_proj (dict): ``InputProjection`` of the text.
        feature_refinement (dict, optional): ``FeatureRefinement``; None =
            no FR (the official ``fra=False`` path).
        video_pos_embed (dict): Clip positional encoding.
        text_pos_embed (dict): Text positional encoding (official: zeros).
        global_token (dict): ``GlobalToken``.
        fusion (dict): ``BiCMFEncoder``.
        encoder (dict): ``TransformerEncoder`` over ``[g; clips]``.
        decoder (dict): ``DABMomentDecoder``.
        moment_head (dict): ``MomentHead``.
        saliency_head (dict): ``QuerySaliencyHead`` (with the global token).
        feedback (dict, optional): Uni-JFM ``SpanGRUFeedback``; None = no
            ``saliency_scores_mr``.
        feedback_head (dict): Saliency head of the feedback memory
            (official ``saliency_proj_mr``: ``QuerySaliencyHead`` without
            the global token).
        align_dim (int, optional): Width of the contrastive projections
            (official ``contrastive_hdim`` 64); None = no projections (and
            no ``align_loss``).
        moment_loss, saliency_loss, align_loss, joint_loss (dict |
            nn.Module, optional): Criteria and the training total.
            ``saliency_loss`` None = :func:`videolights_saliency_loss` (the
            MR->HD term only with ``feedback``); ``joint_loss`` None = the
            official weight dict (span 10, giou 1, label 4, saliency 1,
            contrastive align 0.2 when ``align_loss`` is set).
        post_processor (dict, optional): Defaults to
            ``MomentPostProcessor``.
        embed_dim (int): ``d``. Defaults to 256.
        official_compat (bool): See above. Defaults to False.
        max_text_len (int): Positions of the unused official text embedding.
        data_preprocessor (dict | nn.Module, optional): Data preprocessor.
        init_cfg (dict, optional): MMEngine init config.
        extra_losses (Sequence[dict | nn.Module]): Further loss terms
            ``forward(outputs, targets)`` (see :class:`BaseMRHDDetector`).
    """

    def __init__(self,
                 video_proj: dict,
                 text_proj: dict,
                 feature_refinement: Optional[dict] = dict(
                     type='FeatureRefinement'),
                 video_pos_embed: dict = dict(type='SinePositionalEncoding1D'),
                 text_pos_embed: dict = dict(type='ZeroPositionalEncoding'),
                 global_token: dict = dict(type='GlobalToken'),
                 fusion: dict = dict(type='BiCMFEncoder', num_layers=1),
                 encoder: dict = dict(type='TransformerEncoder', num_layers=3),
                 decoder: dict = dict(
                     type='DABMomentDecoder', num_layers=3, num_queries=10),
                 moment_head: dict = dict(type='MomentHead'),
                 saliency_head: dict = dict(type='QuerySaliencyHead'),
                 feedback: Optional[dict] = dict(type='SpanGRUFeedback'),
                 feedback_head: dict = dict(
                     type='QuerySaliencyHead', with_global=False),
                 align_dim: Optional[int] = 64,
                 moment_loss: ConfigOrModule = dict(type='MomentCriterion'),
                 saliency_loss: ConfigOrModule = None,
                 align_loss: ConfigOrModule = dict(
                     type='ContrastiveAlignLoss'),
                 joint_loss: ConfigOrModule = None,
                 post_processor: Optional[dict] = dict(
                     type='MomentPostProcessor'),
                 embed_dim: int = 256,
                 official_compat: bool = False,
                 max_text_len: int = 32,
                 data_preprocessor: ConfigOrModule = None,
                 init_cfg: Optional[dict] = None,
                 extra_losses: Sequence[ConfigOrModule] = ()) -> None:
        oc = official_compat
        if saliency_loss is None:
            saliency_loss = videolights_saliency_loss(
                oc, mr_to_hd_weight=None if feedback is None else 1.0)
        if joint_loss is None:
            weights = dict(
                loss_span=10.0, loss_giou=1.0, loss_label=4.0,
                loss_saliency=1.0)
            if align_loss is not None:
                weights['loss_contrastive_align'] = 0.2
            joint_loss = dict(type='WeightedSumLoss', weights=weights)
        if isinstance(align_loss, dict):
            align_loss = part_cfg(
                'VideoLights', align_loss, 'align_loss', official_compat=oc)
        super().__init__(
            moment_loss=moment_loss,
            saliency_loss=saliency_loss,
            joint_loss=joint_loss,
            post_processor=post_processor,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            extra_losses=extra_losses)
        d = embed_dim
        self.embed_dim = d
        self.official_compat = oc
        self.align_loss = build_part(MODELS, align_loss)
        self._add_input_projections(video_proj, text_proj)
        self._add_optional_part(
            'feature_refinement',
            feature_refinement,
            embed_dim=d,
            official_compat=oc)
        self._add_positional_encodings(video_pos_embed, text_pos_embed)
        self._add_part('global_token', global_token, embed_dim=d)
        self._add_part('fusion', fusion, embed_dim=d, official_compat=oc)
        self._add_part('encoder', encoder, embed_dim=d)
        self._add_detr_heads(decoder, moment_head, saliency_head)
        self._add_optional_part(
            'feedback', feedback, embed_dim=d, official_compat=oc)
        self.feedback_head = None
        if feedback is not None:
            self._add_part('feedback_head', feedback_head, embed_dim=d)
        self.align_query_proj = self.align_text_proj = None
        self.unused_align_video_proj = None
        if align_dim is not None:
            self.align_query_proj = nn.Linear(d, align_dim)
            self.align_text_proj = nn.Linear(d, align_dim)
            if oc:
                # Official contrastive_align_projection_vid: its output
                # (proj_vid_mem) feeds no loss; kept for checkpoints.
                self.unused_align_video_proj = nn.Linear(d, align_dim)
        elif self.align_loss is not None:
            raise ValueError('VideoLights: align_loss needs align_dim')
        self._add_unused_text_pos(oc, max_text_len)
        if self.video_proj.out_dim != d or self.text_proj.out_dim != d:
            raise ValueError(
                f'VideoLights: video_proj/text_proj out_dim '
                f'({self.video_proj.out_dim}, {self.text_proj.out_dim}) must '
                f'equal embed_dim {d}')

    # ------------------------------------------------------------ passes
    def _fuse_encode(self, video: Tensor, text: Tensor, video_mask: Tensor,
                     text_mask: Tensor, video_pos: Tensor,
                     text_pos: Optional[Tensor],
                     with_neg: bool) -> Tuple[Tensor, Tensor]:
        """Bi-CMF + encoder of the positive (and negative) pair.

        The negative pair (text rolled by -1 along the batch, official
        ``model.py`` L214-226) is stacked with the positive one along the
        batch (each sample is processed independently; official-compat
        attention masks are built per pass, so their batch/head layout is
        that of a batch of ``B``).

        Returns:
            tuple[Tensor, Tensor]: Clip memory ``(nB, L, d)`` and global
            memory ``(nB, d)``, positive pass first.
        """
        masks = self.fusion.build_attn_masks(video_mask, text_mask)
        if with_neg:
            stacked, text_mask_neg = self._stack_negative(
                video, text, video_mask, text_mask, video_pos, text_pos)
            masks_neg = self.fusion.build_attn_masks(video_mask,
                                                     text_mask_neg)
            masks = tuple(torch.cat(pair) for pair in zip(masks, masks_neg))
            video, text, video_mask, text_mask, video_pos, text_pos = stacked
        fused = self.fusion(video, text, video_mask, text_mask, video_pos,
                            text_pos, masks)
        x, mask, pos = self.global_token(fused, video_mask, video_pos)
        memory = self.encoder(x, mask, pos)
        glob, local = self.global_token.split(memory)
        return local, glob

    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (see :meth:`BaseMRHDDetector._forward`) and
        ``text_mask``; ``with_neg`` also runs the negative pair and the
        training-only outputs: ``saliency_scores_neg``,
        ``saliency_scores_mr`` (with feedback), ``proj_queries`` ``(B, Q,
        c)``, ``proj_txt_mem`` ``(B, T, c)``, ``src_txt`` ``(B, T, d)``
        (projected text) and ``src_vid`` ``(B, L, d)`` (refined clips)."""
        video, text, video_mask, text_mask, video_pos, text_pos, video0 = \
            self._embed_inputs(inputs, self.feature_refinement)
        if not text_pos.any():
            text_pos = None  # zeros: skip the additions (same values)
        b = video.shape[0]
        local, glob = self._fuse_encode(video, text, video_mask, text_mask,
                                        video_pos, text_pos, with_neg)
        memory = local[:b]
        hs, references = self.decoder(memory, video_mask, video_pos)
        logits, spans = self.moment_head(hs, references)
        out = detr_outputs(
            logits,
            spans,
            self.saliency_head(memory, glob[:b]),
            video_mask,
            text_mask=text_mask)
        if not with_neg:
            return out
        out['saliency_scores_neg'] = self.saliency_head(local[b:], glob[b:])
        if self.feedback is not None:
            fb_memory, _ = self.feedback(logits[-1], spans[-1], video0,
                                         memory, video_mask)
            out['saliency_scores_mr'] = self.feedback_head(fb_memory)
        if self.align_query_proj is not None:
            queries = F.normalize(self.align_query_proj(hs), p=2, dim=-1)
            out['proj_queries'] = queries[-1]
            out['proj_txt_mem'] = F.normalize(
                self.align_text_proj(text), p=2, dim=-1)
            for aux, q in zip(out['aux_outputs'], queries[:-1]):
                aux['proj_queries'] = q
        out['src_txt'] = text
        out['src_vid'] = video
        return out

    # ------------------------------------------------------------- losses
    def raw_losses(self, inputs: Dict[str, Tensor],
                   data_samples: List[Dict[str, Any]]) -> Dict[str, Tensor]:
        """:meth:`BaseMRHDDetector.raw_losses`, always with the negative pair
        (the saliency and alignment terms read its outputs).

        Args:
            inputs (dict): See :meth:`forward`.
            data_samples (list[dict]): With the ground-truth fields.

        Returns:
            dict[str, Tensor]: Raw (unweighted) loss terms.
        """
        outputs = self._forward(inputs, with_neg=True)
        targets = collate_targets(data_samples, inputs['video_feat'].device)
        return self.losses_from_outputs(outputs, targets)

    def losses_from_outputs(self, outputs: Dict[str, Any],
                            targets: Dict[str, Any]) -> Dict[str, Tensor]:
        """See :meth:`BaseMRHDDetector.losses_from_outputs`; the alignment
        loss follows the saliency loss.

        Args:
            outputs (dict): Raw outputs (:meth:`_forward` layout).
            targets (dict): Batched targets (``collate_targets`` layout).

        Returns:
            dict[str, Tensor]: Raw (unweighted) loss terms.
        """
        losses = super().losses_from_outputs(outputs, targets)
        if not losses:
            raise ValueError('VideoLights: no loss configured')
        return losses

    def _model_losses(self, outputs: Dict[str, Any],
                      targets: Dict[str, Any]) -> Dict[str, Tensor]:
        """``align_loss`` on the final matching of ``moment_loss``."""
        if self.align_loss is None:
            return {}
        if self.moment_loss is None:
            raise ValueError('VideoLights: align_loss needs the matching '
                             'of moment_loss')
        return self.align_loss(outputs, targets,
                               self.moment_loss.last_indices)


def videolights_saliency_loss(official_compat: bool = False,
                              cos_sim_weight: float = 1.0,
                              mr_to_hd_weight: Optional[float] = 1.0,
                              hard_weight: Optional[float] = 10.0,
                              num_pairs_margin: float = 0.2) -> dict:
    """The ``SaliencyCriterion`` config of VideoLights' ``loss_saliency``.

    Terms in the official summation order (``model.py`` L519-525): hinge,
    rank-contrastive, neg-pair, cos-sim (``cos_sim_loss_coef``), MR->HD
    cos-sim (``mr_to_hd_loss_coef``; None = off), hard negative, hard
    positive (``hard_pos_neg_loss_coef``; None = off).

    Args:
        official_compat (bool): Official reductions and normalisation.
        cos_sim_weight (float): ``cos_sim_loss_coef``. Defaults to 1.
        mr_to_hd_weight (float, optional): ``mr_to_hd_loss_coef``.
        hard_weight (float, optional): ``hard_pos_neg_loss_coef``.
        num_pairs_margin (float): Hinge margin. Defaults to 0.2.

    Returns:
        dict: A ``SaliencyCriterion`` config.
    """
    oc = official_compat
    terms = [
        dict(type='SaliencyHingeLoss', margin=num_pairs_margin),
        dict(type='RankContrastiveLoss', with_neg=True),
        dict(type='NegPairLoss', mode='official'),
        dict(
            type='SaliencyCosSimLoss',
            loss_weight=cos_sim_weight,
            official_compat=oc),
    ]
    if mr_to_hd_weight is not None:
        terms.append(
            dict(
                type='SaliencyCosSimLoss',
                score_key='saliency_scores_mr',
                name='mr_to_hd',
                loss_weight=mr_to_hd_weight,
                official_compat=oc))
    if hard_weight is not None:
        terms += [
            dict(
                type='AdaptiveHardSaliencyLoss',
                part=part,
                loss_weight=hard_weight,
                official_compat=oc) for part in ('neg', 'pos')
        ]
    return dict(type='SaliencyCriterion', terms=terms)
