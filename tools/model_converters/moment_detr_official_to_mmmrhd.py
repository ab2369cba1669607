# Copyright (c) mmmrhd contributors. All rights reserved.
"""Convert an official Moment-DETR checkpoint to an mmmrhd checkpoint.

Official checkpoints (jayleicn/moment_detr ``train.py``, e.g. the released
``moment_detr_qvhighlights`` model) are dicts with ``model`` (and
``optimizer``, ``epoch``, ``opt``); a bare state_dict is accepted too. The
output ``{'state_dict': ..., 'meta': {...}}`` loads with
``torch.load(..., weights_only=True)`` and strictly into
``MomentDETR(official_compat=True)`` (or, with ``--drop-unused``, into any
MomentDETR of the same dims).

Key mapping (no tensor is changed; ``nn.MultiheadAttention``'s packed
``in_proj_*`` stay packed)::

    input_vid_proj.<i>.LayerNorm.* / net.1.*
                                     -> video_proj.layers.<i>.norm / fc.*
    input_txt_proj.*                 -> text_proj.* (same pattern)
    transformer.encoder.*            -> encoder.*
    transformer.decoder.*            -> decoder.*
    query_embed.weight               -> decoder.query_embed.weight
    class_embed.*, span_embed.*      -> moment_head.class_embed/span_embed.*
    saliency_proj.*                  -> saliency_head.proj.*
    txt_position_embed.* (unused)    -> unused_text_pos_embed.embed / norm

Usage::

    python tools/model_converters/moment_detr_official_to_mmmrhd.py \
        model_best.ckpt moment_detr_mmmrhd.pth
"""
import sys

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             ENCODER_DECODER_RULES,
                                             INPUT_PROJ_RULES,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins. The model-level
#: query_embed / class_embed / span_embed rules are those of the DAB models.
KEY_RULES = INPUT_PROJ_RULES + DAB_HEAD_RULES + ENCODER_DECODER_RULES + [
    (r'^saliency_proj\.', 'saliency_head.proj.'),
] + UNUSED_TEXT_POS_RULES

CONVERTER = OfficialConverter(
    'Moment-DETR', KEY_RULES,
    'tools/model_converters/moment_detr_official_to_mmmrhd.py')

#: Module-level API (tests, parity adapters, ``python <this file>``).
convert_key = CONVERTER.convert_key
convert_moment_detr_official = CONVERTER.convert
main = CONVERTER.main

if __name__ == '__main__':
    sys.exit(main())
