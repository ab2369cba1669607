# Copyright (c) mmmrhd contributors. All rights reserved.
"""FLOPs and parameters of a config's model (``mmengine.analysis``).

The OpenMMLab ``tools/analysis_tools/get_flops.py``::

    python tools/analysis_tools/get_flops.py CONFIG [--shape L] \\
        [--text-len T] [--with-neg] [--cfg-options KEY=VALUE ...]

The model is built from the config (randomly initialised, ``eval()``) and
one sample is traced: a video of ``L`` clips (default: the config's
``max_v_l``, else 75) and a query of ``T`` tokens (default: the config's
``max_q_l``, else 32), with the feature widths of the model's input
projections (``video_proj`` / ``text_proj``; e.g. 2818 / 512 for
QVHighlights, 98 / 32 for the demo data). What is counted is the detector's
inference forward (``_forward``, no post-processing), with inter-task
feedback on where the model has it (as after training); ``--with-neg`` adds
the negative-pair pass of training.

This is :func:`mmengine.analysis.get_model_complexity_info` with one more
operator: FLOPs follow :class:`mmengine.analysis.FlopAnalyzer` (fvcore's
rules: one multiply-add counts as one FLOP; linear, matmul, conv, norms, ...)
plus :func:`sdpa_flop_jit` for ``scaled_dot_product_attention``, which
mmengine 0.10.7 does not count although all mmmrhd attention runs through
it. Operators without a handle (element-wise ones, softmax, ...) are not
counted and are listed in the warnings. The table gives parameters, FLOPs
and activations per module.
"""
import argparse
import contextlib
import math
import types
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
from mmengine.analysis import (ActivationAnalyzer, FlopAnalyzer,
                               parameter_count)
from mmengine.analysis.jit_handles import generic_activation_jit, get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import Config
from torch import Tensor, nn

from mmmrhd.registry import MODELS
from mmmrhd.utils import register_all_modules
from mmmrhd.utils.cli import (add_cfg_options_arg, add_debug_arg,
                              load_config, parse_config_args, run_main)
from mmmrhd.utils.errors import ConfigError

# Defaults when the config has no max_v_l / max_q_l: QVHighlights' 75 clips
# (150 s at 2 s) and the official max_q_l of 32 tokens.
DEFAULT_NUM_CLIPS = 75
DEFAULT_TEXT_LEN = 32
INPUT_KEYS = ('video_feat', 'video_mask', 'text_feat', 'text_mask')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='FLOPs and parameters of a model (one sample)')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        help='number of video clips L (default: max_v_l of the config, '
        f'else {DEFAULT_NUM_CLIPS})')
    parser.add_argument(
        '--text-len',
        type=int,
        help='number of query tokens (default: max_q_l of the config, '
        f'else {DEFAULT_TEXT_LEN})')
    parser.add_argument(
        '--with-neg',
        action='store_true',
        help='also count the negative-pair pass (training forward)')
    add_cfg_options_arg(parser, 'model.embed_dim=128')
    add_debug_arg(parser)
    return parse_config_args(parser, argv)


def build_model(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` in the config's scope, on the CPU, in eval mode.

    Models with inter-task feedback (a ``feedback_active`` attribute) get it
    switched on, as after training.
    """
    register_all_modules(init_default_scope=False)
    if 'model' not in cfg:
        raise ConfigError(f'{cfg.filename}: the config has no model')
    model = MODELS.build(cfg.model)
    if hasattr(model, 'feedback_active'):
        model.feedback_active = True
    return model.eval()


def input_widths(model: nn.Module) -> Tuple[int, int]:
    """``(video width, text width)`` of the model's input projections.

    Raises:
        ConfigError: The model has no ``video_proj`` / ``text_proj`` with an
            ``in_dim`` (not an mmmrhd detector).
    """
    widths = []
    for name in ('video_proj', 'text_proj'):
        width = getattr(getattr(model, name, None), 'in_dim', None)
        if not isinstance(width, int):
            raise ConfigError(
                f'get_flops: the model {type(model).__name__} has no {name} '
                'with an in_dim (an InputProjection); its input widths are '
                'unknown')
        widths.append(width)
    return widths[0], widths[1]


def make_inputs(model: nn.Module,
                num_clips: int,
                text_len: int,
                seed: int = 0) -> Tuple[Tensor, ...]:
    """One sample in the order of ``INPUT_KEYS``: features and masks.

    Args:
        model (nn.Module): The detector (for the input widths).
        num_clips (int): ``L``.
        text_len (int): ``T``.
        seed (int): Seed of the random features.

    Returns:
        tuple[Tensor]: ``video_feat`` (1, L, Dv), ``video_mask`` (1, L),
        ``text_feat`` (1, T, Dt), ``text_mask`` (1, T); all positions valid.
    """
    video_dim, text_dim = input_widths(model)
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, num_clips, video_dim, generator=g),
            torch.ones(1, num_clips),
            torch.randn(1, text_len, text_dim, generator=g),
            torch.ones(1, text_len))


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention``: ``Q K^T`` and ``A V``.

    With ``Q`` (..., Lq, E), ``K`` (..., Lk, E) and ``V`` (..., Lk, Ev): one
    multiply-add per term, ``prod(...) * Lq * Lk * (E + Ev)``, as
    ``aten::matmul`` would count the two products (the softmax and the
    scaling are not counted, as element-wise ops elsewhere).
    """
    query, key, value = (get_shape(x) for x in inputs[:3])
    batch = math.prod(query[:-2])
    return batch * query[-2] * key[-2] * (query[-1] + value[-1])


#: Extra operator handles on top of mmengine's defaults.
FLOP_HANDLES = {'aten::scaled_dot_product_attention': sdpa_flop_jit}
ACTIVATION_HANDLES = {
    'aten::scaled_dot_product_attention': generic_activation_jit()
}


def format_count(value: float) -> str:
    """``20500046 -> '20.5M'`` (3 significant digits, K/M/G)."""
    for unit, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(value) >= scale:
            return f'{value / scale:.3g}{unit}'
    return str(value)


def _tensors(out: Any) -> Iterator[Tensor]:
    """The tensors of a nested output, in order (None and others dropped)."""
    if isinstance(out, Tensor):
        yield out
    elif isinstance(out, dict):
        for value in out.values():
            yield from _tensors(value)
    elif isinstance(out, (list, tuple)):
        for value in out:
            yield from _tensors(value)


@contextlib.contextmanager
def traceable(model: nn.Module, with_neg: bool = False) -> Iterator[None]:
    """Make ``model(*tensors)`` run ``model._forward`` (for tracing).

    Inside the context, ``model.forward`` takes the tensors of
    :func:`make_inputs` and returns the tensors of the raw outputs as a
    tuple; the module names (and so the table rows) stay the model's own.
    """

    def forward(self, *tensors: Tensor) -> Tuple[Tensor, ...]:
        out = self._forward(dict(zip(INPUT_KEYS, tensors)), with_neg=with_neg)
        return tuple(_tensors(out))

    model.forward = types.MethodType(forward, model)
    try:
        yield
    finally:
        del model.forward


def complexity(cfg: Config,
               num_clips: Optional[int] = None,
               text_len: Optional[int] = None,
               with_neg: bool = False) -> Dict[str, Any]:
    """FLOPs, activations and parameters of ``cfg.model`` for one sample.

    Args:
        cfg (Config): The merged config.
        num_clips (int, optional): ``L``; default ``cfg.max_v_l`` or 75.
        text_len (int, optional): ``T``; default ``cfg.max_q_l`` or 32.
        with_neg (bool): Count the negative-pair pass too.

    Returns:
        dict: As mmengine's ``get_model_complexity_info``: ``flops``,
        ``params``, ``activations``, their ``*_str`` and ``out_table``; plus
        ``by_module`` (FLOPs per module name) and ``shapes`` (the inputs).
    """
    if num_clips is None:
        num_clips = cfg.get('max_v_l', DEFAULT_NUM_CLIPS)
    if text_len is None:
        text_len = cfg.get('max_q_l', DEFAULT_TEXT_LEN)
    for name, value in (('--shape', num_clips), ('--text-len', text_len)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f'{name} must be a positive integer, got '
                              f'{value!r}')
    model = build_model(cfg)
    inputs = make_inputs(model, num_clips, text_len)
    with torch.no_grad(), traceable(model, with_neg):
        flops = FlopAnalyzer(model, inputs).set_op_handle(**FLOP_HANDLES)
        activations = ActivationAnalyzer(
            model, inputs).set_op_handle(**ACTIVATION_HANDLES)
        result = dict(
            flops=flops.total(),
            activations=activations.total(),
            params=parameter_count(model)[''],
            out_table=complexity_stats_table(
                flops=flops, activations=activations,
                show_param_shapes=True),
            by_module=flops.by_module(),
            shapes={k: tuple(v.shape)
                    for k, v in zip(INPUT_KEYS, inputs)})
    for key in ('flops', 'activations', 'params'):
        result[f'{key}_str'] = format_count(result[key])
    return result


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Entry point; prints the summary and the table, returns the result."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    result = complexity(cfg, args.shape, args.text_len, args.with_neg)
    shapes = result['shapes']
    forward = 'training forward (with the negative pass)' if args.with_neg \
        else 'inference forward'
    split_line = '=' * 30
    print(f'\n{result["out_table"]}\n{split_line}\n'
          f'Input shape: video {shapes["video_feat"]}, text '
          f'{shapes["text_feat"]} ({forward})\n'
          f'Flops: {result["flops_str"]} ({result["flops"]})\n'
          f'Params: {result["params_str"]} ({result["params"]})\n'
          f'Activations: {result["activations_str"]}\n{split_line}\n'
          'FLOPs: one multiply-add = 1 (mmengine.analysis + scaled dot-'
          'product attention); the "Unsupported operator" warnings list '
          'what is not counted.')
    return result


if __name__ == '__main__':
    run_main(main)
