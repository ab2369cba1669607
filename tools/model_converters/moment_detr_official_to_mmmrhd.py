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
from typing import Any, Dict, Mapping, Optional, Sequence

import torch

from mmmrhd.utils.official_converter import (DAB_HEAD_RULES,
                                             INPUT_PROJ_RULES,
                                             QVHL_TEXT_STREAMS,
                                             QVHL_VIDEO_STREAMS,
                                             UNUSED_TEXT_POS_RULES,
                                             OfficialConverter)

#: (official regex, mmmrhd replacement), first match wins. The model-level
#: query_embed / class_embed / span_embed rules are those of the DAB models.
KEY_RULES = INPUT_PROJ_RULES + DAB_HEAD_RULES + [
    (r'^transformer\.encoder\.', 'encoder.'),
    (r'^transformer\.decoder\.', 'decoder.'),
    (r'^saliency_proj\.', 'saliency_head.proj.'),
] + UNUSED_TEXT_POS_RULES

CONVERTER = OfficialConverter(
    'Moment-DETR', KEY_RULES,
    'tools/model_converters/moment_detr_official_to_mmmrhd.py')


def convert_key(key: str) -> str:
    """Map one official key to ours (KeyError for an unknown key)."""
    return CONVERTER.convert_key(key)


def convert_moment_detr_official(
        state_dict: Mapping[str, torch.Tensor],
        video_streams: Sequence[Dict[str, Any]] = QVHL_VIDEO_STREAMS,
        text_streams: Sequence[Dict[str, Any]] = QVHL_TEXT_STREAMS,
        drop_unused: bool = False) -> Dict[str, torch.Tensor]:
    """Convert an official Moment-DETR state_dict to mmmrhd keys.

    Args:
        state_dict (Mapping[str, Tensor]): Official weights.
        video_streams (Sequence[dict]): Video feature layout. Defaults to
            QVHighlights (SlowFast 2304 + CLIP 512 + TEF 2).
        text_streams (Sequence[dict]): Text layout (CLIP tokens 512).
        drop_unused (bool): Drop the unused ``txt_position_embed.*``.

    Returns:
        OrderedDict[str, Tensor]: mmmrhd state_dict.
    """
    return CONVERTER.convert(state_dict, video_streams, text_streams,
                             drop_unused)


def main(argv: Optional[Sequence[str]] = None) -> None:
    CONVERTER.main(argv)


if __name__ == '__main__':
    sys.exit(main())
