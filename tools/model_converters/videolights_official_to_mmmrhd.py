# Copyright (c) mmmrhd contributors. All rights reserved.
"""Convert an official VideoLights checkpoint to an mmmrhd checkpoint.

Official checkpoints (dpaul06/VideoLights ``train.py``) are dicts with
``model`` (no EMA); a bare state_dict is accepted too. The output is an
MMEngine-style checkpoint ``{'state_dict': ..., 'meta': {...}}`` that loads
with ``torch.load(..., weights_only=True)`` and strictly into
``VideoLights(official_compat=True)`` (or, with ``--drop-unused``, into a
default VideoLights of the same dims).

Key mapping (kernel-1 ``Conv1d`` weights ``(out, in, 1)`` are squeezed to
``Linear`` weights ``(out, in)``: the same maths; every other tensor is
copied unchanged, ``nn.MultiheadAttention``'s packed ``in_proj_*`` stay
packed)::

    input_vid_proj.<i>.LayerNorm.*        -> video_proj.layers.<i>.norm.*
    input_vid_proj.<i>.net.1.conv1d.*     -> video_proj.layers.<i>.fc.*
    input_txt_proj.*                      -> text_proj.* (same pattern)
    feature_refinement.word_to_sentence_pool.weight
                          -> feature_refinement.sentence_pool.weight
    feature_refinement.mixer.conv1d.*     -> feature_refinement.mixer.*
    feature_refinement.{sim_w,cor_v_w,cor_q_w}   (unchanged)
    global_rep_token / global_rep_pos     -> global_token.token / .pos
    transformer.t2v_encoder.*             -> fusion.*          (Bi-CMF)
    transformer.encoder.*                 -> encoder.*
    transformer.decoder.*                 -> decoder.*
    query_embed.weight                    -> decoder.query_embed.weight
    class_embed.*, span_embed.*           -> moment_head.*
    saliency_proj1 / saliency_proj2       -> saliency_head.proj1 / proj2
    gru_extractor.gru.*                   -> feedback.gru.*    (Uni-JFM)
    saliency_proj_mr.*                    -> feedback_head.proj1.*
    contrastive_align_projection_query/txt
                                          -> align_query_proj / align_text_proj
    contrastive_align_projection_vid (unused) -> unused_align_video_proj
    txt_position_embed.* (unused)         -> unused_text_pos_embed.embed / norm

The declared stream layouts (``video_proj.stream_dims`` /
``stream_names``, same for ``text_proj``) are added; their widths must sum
to the checkpoint's input widths. Defaults: the no-BLIP QVHighlights
layout (SlowFast 2304 + CLIP 512 + TEF 2; CLIP text 512); for
VideoLights-B pass ``--video-streams slowfast:2304,clip:512,blip:768,tef:2
--text-streams clip_text:512,blip_text:768``.

Usage::

    python tools/model_converters/videolights_official_to_mmmrhd.py \
        model_best.ckpt videolights_mmmrhd.pth
"""
import sys

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             ENCODER_DECODER_RULES,
                                             GLOBAL_TOKEN_RULES,
                                             INPUT_PROJ_RULES,
                                             QUERY_SALIENCY_RULES,
                                             UNUSED_TEXT_POS_PREFIX,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins. The ConvLinear
#: input projections come before the shared LinearLayer rules.
KEY_RULES = [
    (r'^input_vid_proj\.(\d+)\.net\.1\.conv1d\.', r'video_proj.layers.\1.fc.'),
    (r'^input_txt_proj\.(\d+)\.net\.1\.conv1d\.', r'text_proj.layers.\1.fc.'),
] + INPUT_PROJ_RULES + [
    (r'^feature_refinement\.word_to_sentence_pool\.',
     'feature_refinement.sentence_pool.'),
    (r'^feature_refinement\.mixer\.conv1d\.', 'feature_refinement.mixer.'),
    (r'^feature_refinement\.(sim_w|cor_v_w|cor_q_w)$',
     r'feature_refinement.\1'),
] + GLOBAL_TOKEN_RULES + [
    (r'^transformer\.t2v_encoder\.', 'fusion.'),
] + ENCODER_DECODER_RULES + DAB_HEAD_RULES + QUERY_SALIENCY_RULES + [
    (r'^gru_extractor\.gru\.', 'feedback.gru.'),
    (r'^saliency_proj_mr\.', 'feedback_head.proj1.'),
    (r'^contrastive_align_projection_query\.', 'align_query_proj.'),
    (r'^contrastive_align_projection_txt\.', 'align_text_proj.'),
    (r'^contrastive_align_projection_vid\.', 'unused_align_video_proj.'),
] + UNUSED_TEXT_POS_RULES

#: Official modules that are built but never used (``--drop-unused``).
UNUSED_PREFIXES = (UNUSED_TEXT_POS_PREFIX,
                   'contrastive_align_projection_vid.')

#: Every official ``...conv1d.weight`` is a kernel-1 Conv1d weight.
CONVERTER = OfficialConverter(
    'VideoLights',
    KEY_RULES,
    'tools/model_converters/videolights_official_to_mmmrhd.py',
    unused_prefixes=UNUSED_PREFIXES,
    pointwise_conv_suffix='conv1d.weight')

#: Module-level API (tests, parity adapters, ``python <this file>``).
convert_key = CONVERTER.convert_key
convert_videolights_official = CONVERTER.convert
select_official_state_dict = CONVERTER.select_state_dict
main = CONVERTER.main

if __name__ == '__main__':
    sys.exit(main())
