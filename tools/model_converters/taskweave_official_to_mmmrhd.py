# Copyright (c) mmmrhd contributors. All rights reserved.
"""Convert an official TaskWeave checkpoint to an mmmrhd checkpoint.

Official checkpoints (EdenGabriel/TaskWeave ``train.py``) are dicts with
``model`` and, with EMA (the default), ``state_dict_ema``; a bare state_dict
is accepted too. The output is an MMEngine-style checkpoint
``{'state_dict': ..., 'meta': {...}}`` that loads with
``torch.load(..., weights_only=True)`` and strictly into
``TaskWeave(official_compat=True)`` (or, without the unused text positional
embedding, ``--drop-unused``, into any TaskWeave of the same dims).

Key mapping (no tensor is changed; ``nn.MultiheadAttention``'s packed
``in_proj_weight``/``in_proj_bias`` are kept packed, our attention uses the
same layout)::

    input_vid_proj.<i>.LayerNorm.*   -> video_proj.layers.<i>.norm.*
    input_vid_proj.<i>.net.1.*       -> video_proj.layers.<i>.fc.*
    input_txt_proj.*                 -> text_proj.* (same pattern)
    transformer.t2v_encoder.layers.<i>.self_attn.*
                                     -> fusion.layers.<i>.cross_attn.*
    transformer.t2v_encoder.*        -> fusion.*
    transformer.shared_encoder.*     -> neck.shared_expert.encoder.*
    transformer.mr_linear/hd_linear  -> neck.mr_mapper/hd_mapper
    transformer.mr_conv.conv.weight  -> neck.mr_expert.conv.weight
    transformer.mr_norm/mr_proj      -> neck.mr_expert.norm/proj
    transformer.mr_decoder.*         -> decoder.*
    query_embed.weight               -> decoder.query_embed.weight
    class_embed.*, span_embed.*      -> moment_head.class_embed/span_embed.*
    saliency_proj_linear/_local      -> saliency_head.proj_linear/proj_local
    output_saliency                  -> saliency_head.output
    hd_log_var, mr_log_var           -> joint_loss.hd_log_var/mr_log_var
    txt_position_embed.position_embeddings / LayerNorm (unused)
                                     -> unused_text_pos_embed.embed / norm

The declared stream layouts (``video_proj.stream_dims`` /
``stream_names``, same for ``text_proj``) are added; their widths must sum
to the checkpoint's input widths.

Usage::

    python tools/model_converters/taskweave_official_to_mmmrhd.py \
        model_best.ckpt taskweave_mmmrhd.pth [--use-ema]
"""
import sys

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             INPUT_PROJ_RULES,
                                             T2V_ENCODER_RULES,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins.
KEY_RULES = INPUT_PROJ_RULES + T2V_ENCODER_RULES + DAB_HEAD_RULES + [
    (r'^transformer\.shared_encoder\.layers\.(\d+)\.',
     r'neck.shared_expert.encoder.layers.\1.'),
    (r'^transformer\.mr_linear\.', 'neck.mr_mapper.'),
    (r'^transformer\.hd_linear\.', 'neck.hd_mapper.'),
    (r'^transformer\.mr_conv\.conv\.weight$', 'neck.mr_expert.conv.weight'),
    (r'^transformer\.mr_norm\.', 'neck.mr_expert.norm.'),
    (r'^transformer\.mr_proj\.', 'neck.mr_expert.proj.'),
    (r'^transformer\.mr_decoder\.', 'decoder.'),
    (r'^saliency_proj_linear\.', 'saliency_head.proj_linear.'),
    (r'^saliency_proj_local\.', 'saliency_head.proj_local.'),
    (r'^output_saliency\.', 'saliency_head.output.'),
    (r'^hd_log_var$', 'joint_loss.hd_log_var'),
    (r'^mr_log_var$', 'joint_loss.mr_log_var'),
] + UNUSED_TEXT_POS_RULES

CONVERTER = OfficialConverter(
    'TaskWeave', KEY_RULES,
    'tools/model_converters/taskweave_official_to_mmmrhd.py')

#: Module-level API (tests, parity adapters, ``python <this file>``).
convert_key = CONVERTER.convert_key
convert_taskweave_official = CONVERTER.convert
select_official_state_dict = CONVERTER.select_state_dict
main = CONVERTER.main

if __name__ == '__main__':
    sys.exit(main())
