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
    (r'^input_vid_proj\.(\d+)\.net\.1\.', r'video_proj.layers.\1.fc.'),
    (r'^input_txt_proj\.(\d+)\.LayerNorm\.', r'text_proj.layers.\1.norm.'),
    (r'^input_txt_proj\.(\d+)\.net\.1\.', r'text_proj.layers.\1.fc.'),
    (r'^transformer\.t2v_encoder\.layers\.(\d+)\.self_attn\.',
     r'fusion.layers.\1.cross_attn.'),
    (r'^transformer\.t2v_encoder\.layers\.(\d+)\.'
     r'(linear1|linear2|norm1|norm2|activation)\.', r'fusion.layers.\1.\2.'),
    (r'^transformer\.shared_encoder\.layers\.(\d+)\.',
     r'neck.shared_expert.encoder.layers.\1.'),
    (r'^transformer\.mr_linear\.', 'neck.mr_mapper.'),
    (r'^transformer\.hd_linear\.', 'neck.hd_mapper.'),
    (r'^transformer\.mr_conv\.conv\.weight$', 'neck.mr_expert.conv.weight'),
    (r'^transformer\.mr_norm\.', 'neck.mr_expert.norm.'),
    (r'^transformer\.mr_proj\.', 'neck.mr_expert.proj.'),
    (r'^transformer\.mr_decoder\.', 'decoder.'),
    (r'^query_embed\.weight$', 'decoder.query_embed.weight'),
    (r'^class_embed\.', 'moment_head.class_embed.'),
    (r'^span_embed\.', 'moment_head.span_embed.'),
    (r'^saliency_proj_linear\.', 'saliency_head.proj_linear.'),
    (r'^saliency_proj_local\.', 'saliency_head.proj_local.'),
    (r'^output_saliency\.', 'saliency_head.output.'),
    (r'^hd_log_var$', 'joint_loss.hd_log_var'),
    (r'^mr_log_var$', 'joint_loss.mr_log_var'),
    (r'^txt_position_embed\.position_embeddings\.',
     'unused_text_pos_embed.embed.'),
    (r'^txt_position_embed\.LayerNorm\.', 'unused_text_pos_embed.norm.'),
]
_COMPILED = [(re.compile(p), r) for p, r in KEY_RULES]
_UNUSED_PREFIX = 'txt_position_embed.'

#: Official QVHighlights layouts (SlowFast + CLIP + TEF; CLIP text tokens).
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
    raise KeyError(f"TaskWeave converter: unknown official key '{key}'")


def _layout(streams: Sequence[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
    names = [s['name'] for s in streams]
    dims = [int(s['dim']) for s in streams]
    return dict(
        stream_dims=torch.tensor(dims),
        stream_names=torch.tensor(
            list(','.join(names).encode('utf-8')), dtype=torch.uint8))


def _check_width(state_dict: Mapping[str, torch.Tensor], key: str,
                 streams: Sequence[Dict[str, Any]], what: str) -> None:
    width = state_dict[key].shape[0]
    total = sum(int(s['dim']) for s in streams)
    if width != total:
        desc = ' + '.join(f"{s['name']} {s['dim']}" for s in streams)
        raise ValueError(
            f'TaskWeave converter: the checkpoint {what} input has {width} '
            f'columns ({key}) but the declared streams sum to {total} '
            f'({desc})')


def convert_taskweave_official(
        state_dict: Mapping[str, torch.Tensor],
        video_streams: Sequence[Dict[str, Any]] = QVHL_VIDEO_STREAMS,
        text_streams: Sequence[Dict[str, Any]] = QVHL_TEXT_STREAMS,
        drop_unused: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Convert an official TaskWeave state_dict to mmmrhd keys.

    Args:
        state_dict (Mapping[str, Tensor]): Official weights (a ``module.``
            prefix from DataParallel is stripped).
        video_streams (Sequence[dict]): Layout of the video features,
            ``dict(name, dim)`` per stream. Defaults to QVHighlights.
        text_streams (Sequence[dict]): Layout of the text features.
        drop_unused (bool): Drop the never-used official text positional
            embedding (``txt_position_embed.*``). Defaults to False (kept as
            ``unused_text_pos_embed.*``, loadable into the official-compat
            model).

    Returns:
        OrderedDict[str, Tensor]: mmmrhd state_dict (official order, layout
        buffers appended).
    """
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if drop_unused and key.startswith(_UNUSED_PREFIX):
            continue
        new_key = convert_key(key)
        if new_key in out:
            raise KeyError(f"TaskWeave converter: two official keys map to "
                           f"'{new_key}'")
        out[new_key] = value
    for prefix, streams, what in (('video_proj', video_streams, 'video'),
                                  ('text_proj', text_streams, 'text')):
        _check_width(out, f'{prefix}.layers.0.norm.weight', streams, what)
        for name, tensor in _layout(streams).items():
            out[f'{prefix}.{name}'] = tensor
    return out


def select_official_state_dict(
        checkpoint: Mapping[str, Any],
        use_ema: bool = False) -> Mapping[str, torch.Tensor]:
    """Pick the weights of an official checkpoint.

    Args:
        checkpoint (Mapping): A raw state_dict, or a dict with ``model``
            and/or ``state_dict_ema``.
        use_ema (bool): Take ``state_dict_ema`` (what the official
            ``inference.py`` evaluates with EMA on).

    Returns:
        Mapping[str, Tensor]: The chosen state_dict.
    """
    if use_ema:
        if 'state_dict_ema' not in checkpoint:
            raise KeyError('TaskWeave converter: --use-ema given but the '
                           "checkpoint has no 'state_dict_ema' (keys: "
                           f'{sorted(checkpoint)[:10]})')
        return checkpoint['state_dict_ema']
    if 'model' in checkpoint:
        return checkpoint['model']
    if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    raise KeyError("TaskWeave converter: no 'model' entry and not a bare "
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
        description='Convert an official TaskWeave checkpoint to mmmrhd.')
    parser.add_argument('src', help='official checkpoint (.ckpt / .pth)')
    parser.add_argument('dst', help='output mmmrhd checkpoint')
    parser.add_argument(
        '--use-ema',
        action='store_true',
        help="convert 'state_dict_ema' instead of 'model'")
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
        help='drop the unused official txt_position_embed weights')
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        raise FileNotFoundError(f'TaskWeave converter: {args.src} not found')
    # Official checkpoints (train.py ``save_checkpoint``) also pickle the
    # argparse options (``opt``): a namespace of plain values, allowed here
    # on top of the weights-only allowlist. Anything else is refused.
    checkpoint = load_checkpoint_file(
        args.src, map_location='cpu', extra_safe_globals=[argparse.Namespace])
    state_dict = convert_taskweave_official(
        select_official_state_dict(checkpoint, args.use_ema),
        args.video_streams, args.text_streams, args.drop_unused)
    meta = dict(
        source=osp.basename(args.src),
        source_entry='state_dict_ema' if args.use_ema else 'model',
        converter='tools/model_converters/taskweave_official_to_mmmrhd.py',
        video_streams=[dict(s) for s in args.video_streams],
        text_streams=[dict(s) for s in args.text_streams],
        dropped_unused_text_pos_embed=args.drop_unused)
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('epoch'), int):
        meta['epoch'] = checkpoint['epoch']
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    sys.exit(main())
