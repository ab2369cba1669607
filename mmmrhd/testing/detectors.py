# Copyright (c) mmmrhd contributors. All rights reserved.
"""Small configs, seeded builds and random batches for detector tests."""
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Mapping, Sequence, Union

import torch
from torch import Tensor, nn

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import DATASETS, MODELS

#: A per-sample field: a value (tensors are copied per sample), a callable
#: ``f(num_clips)`` or None (field left out).
Field = Union[None, Any, Callable[[int], Any]]

#: The ground-truth fields of :func:`random_batch` unless overridden.
DEFAULT_TARGETS: Dict[str, Field] = dict(
    gt_spans=torch.tensor([[0.3, 0.2]]),
    saliency_pos_labels=torch.tensor([3, 4]),
    saliency_neg_labels=torch.tensor([0, 1]),
    saliency_all_labels=lambda num_clips: torch.arange(num_clips).float() % 5)


def qvhl_projections() -> Dict[str, dict]:
    """``video_proj`` / ``text_proj`` at the official QVHighlights dims
    (SlowFast 2304 + CLIP 512 + TEF 2; CLIP text 512), a fresh dict."""
    return dict(
        video_proj=dict(
            type='InputProjection',
            streams=[
                dict(name='slowfast', dim=2304),
                dict(name='clip', dim=512),
                dict(name='tef', dim=2)
            ]),
        text_proj=dict(
            type='InputProjection', streams=[dict(name='clip_text',
                                                  dim=512)]))


def small_projections() -> Dict[str, dict]:
    """``video_proj`` (feat 8 + TEF 2 = the 10 columns of
    :func:`random_batch`) and ``text_proj`` (6 columns), a fresh dict."""
    return dict(
        video_proj=dict(
            type='InputProjection',
            streams=[dict(name='feat', dim=8),
                     dict(name='tef', dim=2)]),
        text_proj=dict(
            type='InputProjection', streams=[dict(name='clip', dim=6)]))


def small_detector_cfg(detector: str,
                       fusion_type: str = 'T2VEncoder',
                       **kw: Any) -> Dict[str, Any]:
    """A width-32 config of a DAB-decoder detector for fast tests: the
    :func:`small_projections`, a one-layer ``fusion`` and
    ``TransformerEncoder`` and a two-layer ``DABMomentDecoder`` with 4
    queries (4 heads, FFN 64); ``kw`` updates the result.

    Args:
        detector (str): Registered detector type, e.g. ``'QDDETR'``.
        fusion_type (str): Type of the one-layer fusion. Defaults to
            ``'T2VEncoder'``.
        **kw: Further / overriding top-level config entries.

    Returns:
        dict: The detector config.
    """
    layer = dict(num_heads=4, ffn_dim=64)
    cfg = dict(
        type=detector,
        embed_dim=32,
        **small_projections(),
        fusion=dict(type=fusion_type, num_layers=1, **layer),
        encoder=dict(type='TransformerEncoder', num_layers=1, **layer),
        decoder=dict(
            type='DABMomentDecoder', num_layers=2, num_queries=4, **layer))
    cfg.update(kw)
    return cfg


def build_seeded(cfg: dict, seed: int = 0) -> nn.Module:
    """``MODELS.build(cfg)`` after ``torch.manual_seed(seed)``, in eval
    mode."""
    torch.manual_seed(seed)
    return MODELS.build(cfg).eval()


def random_batch(video_lengths: Sequence[int],
                 text_lengths: Sequence[int],
                 video_dim: int = 10,
                 text_dim: int = 6,
                 seed: int = 1,
                 **fields: Field) -> Dict[str, Any]:
    """A collated batch of random features with the data contract fields.

    Sample ``i`` has ``video_lengths[i]`` clips of 2 s and
    ``text_lengths[i]`` tokens, drawn (video, then text) from one generator
    seeded with ``seed``.

    Args:
        video_lengths (Sequence[int]): Clips per sample.
        text_lengths (Sequence[int]): Tokens per sample.
        video_dim (int): Video feature width. Defaults to 10.
        text_dim (int): Text feature width. Defaults to 6.
        seed (int): Generator seed. Defaults to 1.
        **fields: Ground-truth fields on top of :data:`DEFAULT_TARGETS`
            (same order; new ones after them).

    Returns:
        dict: ``mrhd_collate`` output (``inputs``, ``data_samples``).
    """
    g = torch.Generator().manual_seed(seed)
    fields = {**DEFAULT_TARGETS, **fields}
    items = []
    for i, (num_clips, num_tokens) in enumerate(
            zip(video_lengths, text_lengths)):
        sample = dict(
            qid=i,
            query=f'q{i}',
            vid=f'v{i}',
            duration=2.0 * num_clips,
            clip_len=2.0,
            num_clips=num_clips)
        for key, value in fields.items():
            if callable(value):
                value = value(num_clips)
            elif isinstance(value, Tensor):
                value = value.clone()
            if value is not None:
                sample[key] = value
        sample['ann'] = dict(qid=i)
        items.append(
            dict(
                inputs=dict(
                    video_feat=torch.randn(num_clips, video_dim, generator=g),
                    text_feat=torch.randn(num_tokens, text_dim, generator=g)),
                data_samples=sample))
    return mrhd_collate(items)


def build_config_model(cfg: Mapping[str, Any]) -> nn.Module:
    """The model of a full config, built after ``torch.manual_seed(0)``,
    once the config is checked (for tests): default scope ``mmmrhd`` and
    every dataloader's dataset type registered.

    Args:
        cfg (Config | Mapping): A loaded full config.

    Returns:
        nn.Module: ``MODELS.build(cfg.model)`` (training mode).
    """
    assert cfg['default_scope'] == 'mmmrhd'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[key]['dataset']['type']) is not None, key
    torch.manual_seed(0)
    return MODELS.build(cfg['model'])


def loss_step(model: nn.Module, samples: Sequence[dict]) -> tuple:
    """Training-mode losses of ``model`` on dataset samples.

    Args:
        model (nn.Module): An MR/HD detector.
        samples (Sequence[dict]): Dataset items (``inputs``,
            ``data_samples``), collated and preprocessed here.

    Returns:
        tuple: ``(total, log_vars, batch)`` of ``parse_losses`` and the
        preprocessed batch.
    """
    batch = model.data_preprocessor(mrhd_collate(list(samples)), True)
    model.train()
    total, log_vars = model.parse_losses(model(**batch, mode='loss'))
    return total, log_vars, batch


def predict_step(model: nn.Module, samples: Sequence[dict]) -> List[dict]:
    """Eval-mode predictions of ``model`` on dataset samples (collated and
    preprocessed here)."""
    model.eval()
    batch = model.data_preprocessor(mrhd_collate(list(samples)), False)
    return model(**batch, mode='predict')


def distinct_value_state_dict(
        portable_init: Mapping[str, Mapping[str, Any]]
) -> 'OrderedDict[str, Tensor]':
    """Official keys and shapes of a fixture's portable-init table, tensor
    ``i`` filled with the value ``i`` (so a mis-mapped key shows).

    Args:
        portable_init (Mapping): ``fx['portable_init']`` (key -> entry with
            ``'shape'``).

    Returns:
        OrderedDict[str, Tensor]: Official-key state_dict.
    """
    return OrderedDict((k, torch.full(e['shape'], float(i)))
                       for i, (k, e) in enumerate(portable_init.items()))
