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
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Sequence

import torch

from mmmrhd.utils.official_converter import (INPUT_PROJ_RULES,
                                             QVHL_TEXT_STREAMS,
                                             QVHL_VIDEO_STREAMS,
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
    (r'^global_rep_token$', 'global_token.token'),
    (r'^global_rep_pos$', 'global_token.pos'),
    (r'^transformer\.t2v_encoder\.', 'fusion.'),
    (r'^transformer\.encoder\.', 'encoder.'),
    (r'^transformer\.decoder\.', 'decoder.'),
    (r'^query_embed\.weight$', 'decoder.query_embed.weight'),
    (r'^class_embed\.', 'moment_head.class_embed.'),
    (r'^span_embed\.', 'moment_head.span_embed.'),
    (r'^saliency_proj1\.', 'saliency_head.proj1.'),
    (r'^saliency_proj2\.', 'saliency_head.proj2.'),
    (r'^gru_extractor\.gru\.', 'feedback.gru.'),
    (r'^saliency_proj_mr\.', 'feedback_head.proj1.'),
    (r'^contrastive_align_projection_query\.', 'align_query_proj.'),
    (r'^contrastive_align_projection_txt\.', 'align_text_proj.'),
    (r'^contrastive_align_projection_vid\.', 'unused_align_video_proj.'),
] + UNUSED_TEXT_POS_RULES

#: Official modules that are built but never used.
UNUSED_PREFIXES = (UNUSED_TEXT_POS_PREFIX,
                   'contrastive_align_projection_vid.')


class VideoLightsConverter(OfficialConverter):
    """:class:`OfficialConverter` that also squeezes the kernel axis of the
    kernel-1 ``Conv1d`` weights and drops both unused official modules with
    ``drop_unused``."""

    def convert(self,
                state_dict: Mapping[str, torch.Tensor],
                video_streams: Sequence[Dict[str, Any]] = QVHL_VIDEO_STREAMS,
                text_streams: Sequence[Dict[str, Any]] = QVHL_TEXT_STREAMS,
                drop_unused: bool = False) -> 'OrderedDict[str, torch.Tensor]':
        prepared: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        for key, value in state_dict.items():
            bare = key[len('module.'):] if key.startswith('module.') else key
            if drop_unused and bare.startswith(UNUSED_PREFIXES):
                continue
            if bare.endswith('conv1d.weight'):
                if value.dim() != 3 or value.shape[-1] != 1:
                    raise ValueError(
                        f'{self.owner} converter: {key} has shape '
                        f'{tuple(value.shape)}; only kernel-1 convolutions '
                        '(out, in, 1) are supported')
                value = value[..., 0]
            prepared[key] = value
        return super().convert(prepared, video_streams, text_streams,
                               drop_unused)


CONVERTER = VideoLightsConverter(
    'VideoLights', KEY_RULES,
    'tools/model_converters/videolights_official_to_mmmrhd.py')


def convert_key(key: str) -> str:
    """Map one official key to ours (KeyError if unknown)."""
    return CONVERTER.convert_key(key)


def convert_videolights_official(
        state_dict: Mapping[str, torch.Tensor],
        video_streams: Sequence[Dict[str, Any]] = QVHL_VIDEO_STREAMS,
        text_streams: Sequence[Dict[str, Any]] = QVHL_TEXT_STREAMS,
        drop_unused: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Convert an official VideoLights state_dict to mmmrhd keys.

    Args:
        state_dict (Mapping[str, Tensor]): Official weights (a ``module.``
            prefix from DataParallel is stripped).
        video_streams (Sequence[dict]): Layout of the video features.
            Defaults to no-BLIP QVHighlights (SlowFast + CLIP + TEF).
        text_streams (Sequence[dict]): Layout of the text features.
        drop_unused (bool): Drop the two never-used official modules
            (``txt_position_embed``, ``contrastive_align_projection_vid``).

    Returns:
        OrderedDict[str, Tensor]: mmmrhd state_dict (official order, layout
        buffers appended).
    """
    return CONVERTER.convert(state_dict, video_streams, text_streams,
                             drop_unused)


def select_official_state_dict(
        checkpoint: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
    """The ``model`` entry of an official checkpoint (VideoLights has no
    EMA), or a bare state_dict."""
    return CONVERTER.select_state_dict(checkpoint)


def main(argv: Optional[Sequence[str]] = None) -> None:
    CONVERTER.main(argv)


if __name__ == '__main__':
    sys.exit(main())
