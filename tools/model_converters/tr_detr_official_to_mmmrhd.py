# Copyright (c) mmmrhd contributors. All rights reserved.
"""Convert an official TR-DETR checkpoint to an mmmrhd checkpoint.

Official checkpoints (mingyao1120/TR-DETR ``train.py``) are dicts with
``model`` (and ``optimizer``, ``epoch``, ``opt``); a bare state_dict is
accepted too. The output is an MMEngine-style checkpoint
``{'state_dict': ..., 'meta': {...}}`` that loads with
``torch.load(..., weights_only=True)`` and strictly into
``TRDETR(official_compat=True)`` (or, with ``--drop-unused``, into any
TRDETR of the same dims).

Key mapping::

    input_vid_proj.<i>.LayerNorm.* / net.1.*
                                     -> video_proj.layers.<i>.norm / fc.*
    input_txt_proj.*                 -> text_proj.* (same pattern)
    fuser.cq_attention.w4C/w4Q/w4mlu -> refiner.cq_attention.* (same names)
    fuser.cq_attention.cqa_linear.conv1d.*
                                     -> refiner.cq_attention.fc.*
    fuser.cq_concat.weighted_pool.weight
                                     -> refiner.cq_concat.weighted_pool.weight
    fuser.cq_concat.conv1d.conv1d.*  -> refiner.cq_concat.fc.*
    transformer.t2v_encoder.layers.<i>.self_attn.*
                                     -> fusion.layers.<i>.cross_attn.*
    transformer.t2v_encoder.*        -> fusion.*
    transformer.encoder.*            -> encoder.* (used twice: HD2MR)
    transformer.decoder.*            -> decoder.*
    query_embed.weight               -> decoder.query_embed.weight
    class_embed.*, span_embed.*      -> moment_head.class_embed/span_embed.*
    saliency_proj1.*                 -> saliency_head.proj1.*
    gru_extractor.gru.*              -> mr2hd.gru.*
    txt_position_embed.* (unused)    -> unused_text_pos_embed.embed / norm

The only tensors that change are the two kernel-1 ``Conv1d`` weights of the
fuser, ``(d_out, d_in, 1)``, which are stored as ``Linear`` weights
``(d_out, d_in)`` (the same map; the last axis is dropped).

Usage::

    python tools/model_converters/tr_detr_official_to_mmmrhd.py \
        model_best.ckpt tr_detr_mmmrhd.pth \
        [--video-streams slowfast:2304,clip:512,tef:2]
"""
import sys

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             ENCODER_DECODER_RULES,
                                             INPUT_PROJ_RULES,
                                             T2V_ENCODER_RULES,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins.
KEY_RULES = INPUT_PROJ_RULES + T2V_ENCODER_RULES + DAB_HEAD_RULES + [
    (r'^fuser\.cq_attention\.(w4C|w4Q|w4mlu)$', r'refiner.cq_attention.\1'),
    (r'^fuser\.cq_attention\.cqa_linear\.conv1d\.',
     'refiner.cq_attention.fc.'),
    (r'^fuser\.cq_concat\.weighted_pool\.weight$',
     'refiner.cq_concat.weighted_pool.weight'),
    (r'^fuser\.cq_concat\.conv1d\.conv1d\.', 'refiner.cq_concat.fc.'),
] + ENCODER_DECODER_RULES + [
    (r'^saliency_proj1\.', 'saliency_head.proj1.'),
    (r'^gru_extractor\.gru\.', 'mr2hd.gru.'),
] + UNUSED_TEXT_POS_RULES

#: The fuser's two kernel-1 Conv1d weights (official keys ending
#: ``conv1d.weight``) become Linear weights.
CONVERTER = OfficialConverter(
    'TR-DETR',
    KEY_RULES,
    'tools/model_converters/tr_detr_official_to_mmmrhd.py',
    pointwise_conv_suffix='conv1d.weight')

#: Module-level API (tests, parity adapters, ``python <this file>``).
convert_key = CONVERTER.convert_key
convert_tr_detr_official = CONVERTER.convert
main = CONVERTER.main

if __name__ == '__main__':
    sys.exit(main())
