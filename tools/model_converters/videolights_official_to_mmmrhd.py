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
    contrastive_align_projection_query/txt -> align_query_proj / align_text_proj
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
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch

from mmmrhd.utils import load_checkpoint_file

#: (official regex, mmmrhd replacement), first match wins.
KEY_RULES = [
    (r'^input_vid_proj\.(\d+)\.LayerNorm\.', r'video_proj.layers.\1.norm.'),
    (r'^input_vid_proj\.(\d+)\.net\.1\.conv1d\.', r'video_proj.layers.\1.fc.'),
    (r'^input_vid_proj\.(\d+)\.net\.1\.', r'video_proj.layers.\1.fc.'),
    (r'^input_txt_proj\.(\d+)\.LayerNorm\.', r'text_proj.layers.\1.norm.'),
    (r'^input_txt_proj\.(\d+)\.net\.1\.conv1d\.', r'text_proj.layers.\1.fc.'),
    (r'^input_txt_proj\.(\d+)\.net\.1\.', r'text_proj.layers.\1.fc.'),
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
    (r'^txt_position_embed\.position_embeddings\.',
     'unused_text_pos_embed.embed.'),
    (r'^txt_position_embed\.LayerNorm\.', 'unused_text_pos_embed.norm.'),
]
_COMPILED = [(re.compile(p), r) for p, r in KEY_RULES]
_UNUSED_PREFIXES = ('txt_position_embed.',
                    'contrastive_align_projection_vid.')

#: Official no-BLIP QVHighlights layouts
#: (``scripts/qvhl/train_from_pretrain-sf_clip.sh``).
QVHL_VIDEO_STREAMS = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2)
]
QVHL_TEXT_STREAMS = [dict(name='clip_text', dim=512)]


def convert_key(key: str) -> str:
    """Map one official key to ours.

    Args:
        key (str): Official state_dict key.

    Returns:
        str: mmmrhd key.
    """
    for pattern, repl in _COMPILED:
        if pattern.search(key):
            return pattern.sub(repl, key, count=1)
    raise KeyError(f"VideoLights converter: unknown official key '{key}'")


def _layout(streams: Sequence[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
    names = [s['name'] for s in streams]
    dims = [int(s['dim']) for s in streams]
    return dict(
        stream_dims=torch.tensor(dims),
        stream_names=torch.tensor(
            list(','.join(names).encode('utf-8')), dtype=torch.uint8))


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
        text_streams (Sequence[dict]): Layout of the text features.
        drop_unused (bool): Drop the two never-used official modules
            (``txt_position_embed``, ``contrastive_align_projection_vid``).

    Returns:
        OrderedDict[str, Tensor]: mmmrhd state_dict (official order, layout
        buffers appended).
    """
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if drop_unused and key.startswith(_UNUSED_PREFIXES):
            continue
        new_key = convert_key(key)
        if new_key in out:
            raise KeyError(f"VideoLights converter: two official keys map to "
                           f"'{new_key}'")
        if key.endswith('conv1d.weight'):
            if value.dim() != 3 or value.shape[-1] != 1:
                raise ValueError(
                    f'VideoLights converter: {key} has shape '
                    f'{tuple(value.shape)}; only kernel-1 convolutions '
                    '(out, in, 1) are supported')
            value = value[..., 0]
        out[new_key] = value
    for prefix, streams, what in (('video_proj', video_streams, 'video'),
                                  ('text_proj', text_streams, 'text')):
        key = f'{prefix}.layers.0.norm.weight'
        width = out[key].shape[0]
        total = sum(int(s['dim']) for s in streams)
        if width != total:
            desc = ' + '.join(f"{s['name']} {s['dim']}" for s in streams)
            raise ValueError(
                f'VideoLights converter: the checkpoint {what} input has '
                f'{width} columns ({key}) but the declared streams sum to '
                f'{total} ({desc})')
        for name, tensor in _layout(streams).items():
            out[f'{prefix}.{name}'] = tensor
    return out


def select_official_state_dict(
        checkpoint: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
    """The ``model`` entry of an official checkpoint, or a bare state_dict.
    """
    if 'model' in checkpoint:
        return checkpoint['model']
    if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    raise KeyError("VideoLights converter: no 'model' entry and not a bare "
                   f'state_dict (keys: {sorted(checkpoint)[:10]})')


def _parse_streams(text: str) -> List[Dict[str, Any]]:
    streams = []
    for item in text.split(','):
        name, sep, dim = item.partition(':')
        if not sep or not dim.isdigit():
            raise argparse.ArgumentTypeError(
                f"stream '{item}' is not NAME:DIM (e.g. slowfast:2304)")
        streams.append(dict(name=name, dim=int(dim)))
    return streams


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description='Convert an official VideoLights checkpoint to mmmrhd.')
    parser.add_argument('src', help='official checkpoint (.ckpt / .pth)')
    parser.add_argument('dst', help='output mmmrhd checkpoint')
    parser.add_argument(
        '--video-streams',
        type=_parse_streams,
        default=QVHL_VIDEO_STREAMS,
        help='video layout NAME:DIM,... (default slowfast:2304,clip:512,'
        'tef:2)')
    parser.add_argument(
        '--text-streams',
        type=_parse_streams,
        default=QVHL_TEXT_STREAMS,
        help='text layout NAME:DIM,... (default clip_text:512)')
    parser.add_argument(
        '--drop-unused',
        action='store_true',
        help='drop the unused txt_position_embed and '
        'contrastive_align_projection_vid weights')
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        raise FileNotFoundError(
            f'VideoLights converter: {args.src} not found')
    # Official checkpoints also pickle the argparse options (``opt``).
    checkpoint = load_checkpoint_file(
        args.src, map_location='cpu', extra_safe_globals=[argparse.Namespace])
    state_dict = convert_videolights_official(
        select_official_state_dict(checkpoint), args.video_streams,
        args.text_streams, args.drop_unused)
    meta = dict(
        source=osp.basename(args.src),
        converter='tools/model_converters/videolights_official_to_mmmrhd.py',
        video_streams=[dict(s) for s in args.video_streams],
        text_streams=[dict(s) for s in args.text_streams],
        dropped_unused=args.drop_unused)
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('epoch'), int):
        meta['epoch'] = checkpoint['epoch']
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    sys.exit(main())
