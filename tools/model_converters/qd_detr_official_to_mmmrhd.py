# Copyright (c) mmmrhd contributors. All rights reserved.
"""Convert an official QD-DETR checkpoint to an mmmrhd checkpoint.

Official checkpoints (wjun0830/QD-DETR ``train.py``) are dicts with
``model`` (and ``optimizer``, ``epoch``, ``opt``); a bare state_dict is
accepted too. The output is an MMEngine-style checkpoint
``{'state_dict': ..., 'meta': {...}}`` that loads with
``torch.load(..., weights_only=True)`` and strictly into
``QDDETR(official_compat=True)`` (or, with ``--drop-unused``, into any
QDDETR of the same dims).

Key mapping (no tensor is changed)::

    input_vid_proj.<i>.LayerNorm.* / net.1.*
                                     -> video_proj.layers.<i>.norm / fc.*
    input_txt_proj.*                 -> text_proj.* (same pattern)
    transformer.t2v_encoder.layers.<i>.self_attn.*
                                     -> fusion.layers.<i>.cross_attn.*
    transformer.t2v_encoder.*        -> fusion.*
    transformer.encoder.*            -> encoder.*
    transformer.decoder.*            -> decoder.*
    query_embed.weight               -> decoder.query_embed.weight
    class_embed.*, span_embed.*      -> moment_head.class_embed/span_embed.*
    global_rep_token / global_rep_pos
                                     -> global_token.token / pos
    saliency_proj1 / saliency_proj2  -> saliency_head.proj1 / proj2
    txt_position_embed.* (unused)    -> unused_text_pos_embed.embed / norm

Usage::

    python tools/model_converters/qd_detr_official_to_mmmrhd.py \
        model_best.ckpt qd_detr_mmmrhd.pth \
        [--video-streams slowfast:2304,clip:512,tef:2]
"""
import sys

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             ENCODER_DECODER_RULES,
                                             GLOBAL_TOKEN_RULES,
                                             INPUT_PROJ_RULES,
                                             QUERY_SALIENCY_RULES,
                                             T2V_ENCODER_RULES,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins.
KEY_RULES = (
    INPUT_PROJ_RULES + T2V_ENCODER_RULES + DAB_HEAD_RULES +
    ENCODER_DECODER_RULES + GLOBAL_TOKEN_RULES + QUERY_SALIENCY_RULES +
    UNUSED_TEXT_POS_RULES)

CONVERTER = OfficialConverter(
    'QD-DETR', KEY_RULES,
    'tools/model_converters/qd_detr_official_to_mmmrhd.py')

#: Module-level API (tests, parity adapters, ``python <this file>``).
convert_key = CONVERTER.convert_key
convert_qd_detr_official = CONVERTER.convert
main = CONVERTER.main

if __name__ == '__main__':
    sys.exit(main())
