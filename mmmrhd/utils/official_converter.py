# Copyright (c) mmmrhd contributors. All rights reserved.
"""Shared machinery of the official-checkpoint converters.

Every converter in ``tools/model_converters/<model>_official_to_mmmrhd.py``
is an :class:`OfficialConverter`: an ordered list of ``(official regex,
mmmrhd replacement)`` key rules (first match wins; no tensor is changed
but kernel-1 ``Conv1d`` weights, see ``pointwise_conv_suffix``),
plus the input-stream layout buffers of the two ``InputProjection`` parts,
the choice of the weights inside an official checkpoint (``model`` or
``state_dict_ema``) and a weights-only command line.

The rules shared by all Moment-DETR descendants are in
:data:`INPUT_PROJ_RULES` (``LinearLayer`` input projections) and
:data:`UNUSED_TEXT_POS_RULES` (the built-but-unused ``txt_position_embed``);
:data:`ENCODER_DECODER_RULES`, :data:`T2V_ENCODER_RULES`,
:data:`DAB_HEAD_RULES`, :data:`GLOBAL_TOKEN_RULES` and
:data:`QUERY_SALIENCY_RULES` cover the parts that several of them share.
Each converter script exposes ``convert_key``,
``convert_<model>_official`` (:meth:`OfficialConverter.convert`) and
``main`` of its ``CONVERTER``.
"""
import argparse
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .checkpoint import load_checkpoint_file

Rules = Sequence[Tuple[str, str]]

#: Official ``LinearLayer`` input projections (LN -> Dropout -> Linear).
INPUT_PROJ_RULES: List[Tuple[str, str]] = [
    (r'^input_vid_proj\.(\d+)\.LayerNorm\.', r'video_proj.layers.\1.norm.'),
    (r'^input_vid_proj\.(\d+)\.net\.1\.', r'video_proj.layers.\1.fc.'),
    (r'^input_txt_proj\.(\d+)\.LayerNorm\.', r'text_proj.layers.\1.norm.'),
    (r'^input_txt_proj\.(\d+)\.net\.1\.', r'text_proj.layers.\1.fc.'),
]
#: The official T2V cross-attention encoder (QD-DETR, TaskWeave, TR-DETR)
#: -> ``T2VEncoder`` named ``fusion``.
T2V_ENCODER_RULES: List[Tuple[str, str]] = [
    (r'^transformer\.t2v_encoder\.layers\.(\d+)\.self_attn\.',
     r'fusion.layers.\1.cross_attn.'),
    (r'^transformer\.t2v_encoder\.layers\.(\d+)\.'
     r'(linear1|linear2|norm1|norm2|activation)\.', r'fusion.layers.\1.\2.'),
]
#: Model-level DAB anchors and the moment head (QD, TW, TR, VL).
DAB_HEAD_RULES: List[Tuple[str, str]] = [
    (r'^query_embed\.weight$', 'decoder.query_embed.weight'),
    (r'^class_embed\.', 'moment_head.class_embed.'),
    (r'^span_embed\.', 'moment_head.span_embed.'),
]
#: The official self-attention encoder and DETR decoder of ``transformer``.
ENCODER_DECODER_RULES: List[Tuple[str, str]] = [
    (r'^transformer\.encoder\.', 'encoder.'),
    (r'^transformer\.decoder\.', 'decoder.'),
]
#: The official learned global (saliency) token -> ``GlobalToken``.
GLOBAL_TOKEN_RULES: List[Tuple[str, str]] = [
    (r'^global_rep_token$', 'global_token.token'),
    (r'^global_rep_pos$', 'global_token.pos'),
]
#: QD-DETR's query-dependent saliency projections -> ``QuerySaliencyHead``.
QUERY_SALIENCY_RULES: List[Tuple[str, str]] = [
    (r'^saliency_proj1\.', 'saliency_head.proj1.'),
    (r'^saliency_proj2\.', 'saliency_head.proj2.'),
]
#: The official ``TrainablePositionalEncoding`` built for the text but never
#: used (``use_txt_pos=False``); kept for strict loading / parameter counts.
UNUSED_TEXT_POS_RULES: List[Tuple[str, str]] = [
    (r'^txt_position_embed\.position_embeddings\.',
     'unused_text_pos_embed.embed.'),
    (r'^txt_position_embed\.LayerNorm\.', 'unused_text_pos_embed.norm.'),
]
UNUSED_TEXT_POS_PREFIX = 'txt_position_embed.'

#: Official QVHighlights layouts (SlowFast + CLIP + TEF; CLIP text tokens).
QVHL_VIDEO_STREAMS = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2)
]
QVHL_TEXT_STREAMS = [dict(name='clip_text', dim=512)]


def stream_layout(streams: Sequence[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
    """``InputProjection`` layout buffers (``stream_dims``,
    ``stream_names``) of a stream list."""
    names = [s['name'] for s in streams]
    dims = [int(s['dim']) for s in streams]
    return dict(
        stream_dims=torch.tensor(dims),
        stream_names=torch.tensor(
            list(','.join(names).encode('utf-8')), dtype=torch.uint8))


def parse_streams(text: str) -> List[Dict[str, Any]]:
    """``'slowfast:2304,clip:512'`` -> ``[dict(name, dim), ...]``
    (argparse type)."""
    streams = []
    for item in text.split(','):
        name, sep, dim = item.partition(':')
        if not sep or not dim.isdigit():
            raise argparse.ArgumentTypeError(
                f"stream '{item}' is not NAME:DIM (e.g. slowfast:2304)")
        streams.append(dict(name=name, dim=int(dim)))
    return streams


class OfficialConverter:
    """Key-renaming converter of one official model.

    Args:
        owner (str): Model name used in messages (e.g. ``'QD-DETR'``).
        rules (Sequence[tuple[str, str]]): ``(regex, replacement)``, first
            match wins.
        script (str): Repository path of the converter script (recorded in
            the output checkpoint's meta).
        unused_prefixes (Sequence[str]): Official modules that are built but
            never used, dropped with ``drop_unused``. Defaults to the text
            positional embedding.
        pointwise_conv_suffix (str, optional): Official keys ending with it
            are kernel-1 ``Conv1d`` weights ``(out, in, 1)``, stored as
            ``Linear`` weights ``(out, in)`` (the same map; the kernel axis
            is dropped). None = no such weights.
    """

    def __init__(self,
                 owner: str,
                 rules: Rules,
                 script: str,
                 unused_prefixes: Sequence[str] = (
                     UNUSED_TEXT_POS_PREFIX, ),
                 pointwise_conv_suffix: Optional[str] = None) -> None:
        self.owner = owner
        self.rules = list(rules)
        self.script = script
        self.unused_prefixes = tuple(unused_prefixes)
        self.pointwise_conv_suffix = pointwise_conv_suffix
        self._compiled = [(re.compile(p), r) for p, r in self.rules]

    def convert_key(self, key: str) -> str:
        """Map one official key to ours (KeyError if no rule matches)."""
        for pattern, repl in self._compiled:
            if pattern.search(key):
                return pattern.sub(repl, key, count=1)
        raise KeyError(f"{self.owner} converter: unknown official key "
                       f"'{key}'")

    def _check_width(self, state_dict: Mapping[str, torch.Tensor], key: str,
                     streams: Sequence[Dict[str, Any]], what: str) -> None:
        width = state_dict[key].shape[0]
        total = sum(int(s['dim']) for s in streams)
        if width != total:
            desc = ' + '.join(f"{s['name']} {s['dim']}" for s in streams)
            raise ValueError(
                f'{self.owner} converter: the checkpoint {what} input has '
                f'{width} columns ({key}) but the declared streams sum to '
                f'{total} ({desc})')

    def convert(self,
                state_dict: Mapping[str, torch.Tensor],
                video_streams: Sequence[Dict[str, Any]] = QVHL_VIDEO_STREAMS,
                text_streams: Sequence[Dict[str, Any]] = QVHL_TEXT_STREAMS,
                drop_unused: bool = False) -> 'OrderedDict[str, torch.Tensor]':
        """Convert an official state_dict to mmmrhd keys.

        Args:
            state_dict (Mapping[str, Tensor]): Official weights (a
                ``module.`` prefix from DataParallel is stripped).
            video_streams (Sequence[dict]): Layout of the video features,
                ``dict(name, dim)`` per stream. Defaults to QVHighlights.
            text_streams (Sequence[dict]): Layout of the text features.
            drop_unused (bool): Drop the never-used official modules
                (``unused_prefixes``; the text positional embedding
                ``txt_position_embed.*`` by default).

        Returns:
            OrderedDict[str, Tensor]: mmmrhd state_dict (official order,
            layout buffers appended).
        """
        out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        for key, value in state_dict.items():
            if key.startswith('module.'):
                key = key[len('module.'):]
            if drop_unused and key.startswith(self.unused_prefixes):
                continue
            if self.pointwise_conv_suffix is not None and key.endswith(
                    self.pointwise_conv_suffix):
                if value.dim() != 3 or value.shape[-1] != 1:
                    raise ValueError(
                        f'{self.owner} converter: {key} must be a kernel-1 '
                        'Conv1d weight (out, in, 1), got '
                        f'{tuple(value.shape)}')
                value = value[..., 0]
            new_key = self.convert_key(key)
            if new_key in out:
                raise KeyError(f'{self.owner} converter: two official keys '
                               f"map to '{new_key}'")
            out[new_key] = value
        for prefix, streams, what in (('video_proj', video_streams, 'video'),
                                      ('text_proj', text_streams, 'text')):
            self._check_width(out, f'{prefix}.layers.0.norm.weight', streams,
                              what)
            for name, tensor in stream_layout(streams).items():
                out[f'{prefix}.{name}'] = tensor
        return out

    def select_state_dict(self,
                          checkpoint: Mapping[str, Any],
                          use_ema: bool = False) -> Mapping[str, torch.Tensor]:
        """Pick the weights of an official checkpoint: ``model``, or
        ``state_dict_ema`` with ``use_ema``, or a bare state_dict."""
        if use_ema:
            if 'state_dict_ema' not in checkpoint:
                raise KeyError(
                    f'{self.owner} converter: --use-ema given but the '
                    "checkpoint has no 'state_dict_ema' (keys: "
                    f'{sorted(checkpoint)[:10]})')
            return checkpoint['state_dict_ema']
        if 'model' in checkpoint:
            return checkpoint['model']
        if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
        raise KeyError(f"{self.owner} converter: no 'model' entry and not a "
                       f'bare state_dict (keys: {sorted(checkpoint)[:10]})')

    def main(self, argv: Optional[Sequence[str]] = None) -> None:
        """Command line: ``SRC DST [--use-ema] [--video-streams ...]
        [--text-streams ...] [--drop-unused]``."""
        parser = argparse.ArgumentParser(
            description=f'Convert an official {self.owner} checkpoint to '
            'mmmrhd.')
        parser.add_argument('src', help='official checkpoint (.ckpt / .pth)')
        parser.add_argument('dst', help='output mmmrhd checkpoint')
        parser.add_argument(
            '--use-ema',
            action='store_true',
            help="convert 'state_dict_ema' instead of 'model'")
        parser.add_argument(
            '--video-streams',
            type=parse_streams,
            default=QVHL_VIDEO_STREAMS,
            help='video layout NAME:DIM,... (default slowfast:2304,'
            'clip:512,tef:2)')
        parser.add_argument(
            '--text-streams',
            type=parse_streams,
            default=QVHL_TEXT_STREAMS,
            help='text layout NAME:DIM,... (default clip_text:512)')
        parser.add_argument(
            '--drop-unused',
            action='store_true',
            help='drop the unused official txt_position_embed weights')
        args = parser.parse_args(argv)
        if not osp.isfile(args.src):
            raise FileNotFoundError(
                f'{self.owner} converter: {args.src} not found')
        # Official checkpoints (train.py ``save_checkpoint``) also pickle
        # the argparse options (``opt``): a namespace of plain values,
        # allowed on top of the weights-only allowlist. Anything else is
        # refused.
        checkpoint = load_checkpoint_file(
            args.src,
            map_location='cpu',
            extra_safe_globals=[argparse.Namespace])
        state_dict = self.convert(
            self.select_state_dict(checkpoint, args.use_ema),
            args.video_streams, args.text_streams, args.drop_unused)
        meta = dict(
            source=osp.basename(args.src),
            source_entry='state_dict_ema' if args.use_ema else 'model',
            converter=self.script,
            video_streams=[dict(s) for s in args.video_streams],
            text_streams=[dict(s) for s in args.text_streams],
            dropped_unused_text_pos_embed=args.drop_unused)
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get('epoch'), int):
            meta['epoch'] = checkpoint['epoch']
        torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
        print(f'saved {len(state_dict)} tensors to {args.dst}')
