# Copyright (c) mmmrhd contributors. All rights reserved.
"""CLIP image and text adapters producing the released CLIP features.

* :class:`CLIPVisionAdapter`: ``encode_image`` (512-d, projected, not
  normalised), the HERO ``clip_features`` recipe.
* :class:`CLIPTextAdapter`: moment_detr ``run_on_video/clip``'s query
  features: tokens = SOT + the first 30 BPE tokens + EOT;
  ``last_hidden_state`` = ``ln_final(transformer(...))`` of every token,
  *without* the text projection (512 per token); ``pooler_output`` = the
  EOT state x ``text_projection``.

Weights come from a local file only: an OpenAI ``ViT-B-32.pt``
(TorchScript archive) or a plain state dict with OpenAI/open_clip names
(e.g. saved from ``open_clip.create_model('ViT-B-32-quickgelu')``). The
BPE tokenizer is open_clip's (an optional extra; its ids equal OpenAI's),
or any callable ``str -> list[int]``.
"""
import importlib
import importlib.util
import os.path as osp
import zipfile
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from mmmrhd.registry import MODELS
from mmmrhd.utils.errors import CheckpointError, ConfigError
from .clip_model import CLIPTextTransformer, CLIPVisionTransformer

__all__ = ['CLIPVisionAdapter', 'CLIPTextAdapter', 'load_clip_state_dict',
           'CLIP_ARCHS']

#: Architectures whose weights were trained with QuickGELU (OpenAI
#: ``clip/model.py`` ``build_model`` for ViT-B/32; open_clip
#: ``model_configs/ViT-B-32-quickgelu.json``).
CLIP_ARCHS = {
    'ViT-B-32-quickgelu':
    dict(
        vision=dict(
            image_size=224, patch_size=32, width=768, layers=12, heads=12,
            output_dim=512),
        text=dict(
            context_length=77, vocab_size=49408, width=512, heads=8,
            layers=12, embed_dim=512),
        act='quick_gelu'),
}
#: open_clip names that silently build the OpenAI architecture with exact
#: GELU (``ViT-B-32.json`` has no ``quick_gelu``): 0.8% feature error with
#: OpenAI weights.
_GELU_TRAPS = {'ViT-B-32': 'ViT-B-32-quickgelu', 'ViT-B/32':
               'ViT-B-32-quickgelu'}
# Keys of an OpenAI state dict that are not parameters (``build_model``
# deletes them) or belong to no tower.
_NON_TOWER_KEYS = ('input_resolution', 'context_length', 'vocab_size',
                   'logit_scale')


def _resolve_arch(arch: Optional[str], tower: str, cfg: Optional[dict],
                  pretrained: Optional[str]) -> dict:
    if arch in _GELU_TRAPS:
        raise ConfigError(
            f"CLIP arch {arch!r} is open_clip's exact-GELU model; OpenAI "
            'weights were trained with QuickGELU and give ~0.8% different '
            f'features under GELU: use arch={_GELU_TRAPS[arch]!r}')
    if arch is None:
        if cfg is None:
            raise ConfigError(f'CLIP {tower} adapter: give arch or '
                              f'{tower}_cfg')
        cfg = dict(cfg)
        cfg.setdefault('act', 'quick_gelu')
    else:
        if arch not in CLIP_ARCHS:
            raise ConfigError(f'unknown CLIP arch {arch!r}; known: '
                              f'{sorted(CLIP_ARCHS)}')
        cfg = dict(CLIP_ARCHS[arch][tower], act=CLIP_ARCHS[arch]['act'],
                   **(cfg or {}))
    if cfg['act'] not in ('quick_gelu', 'gelu'):
        raise ConfigError(f"CLIP act must be 'quick_gelu' or 'gelu', got "
                          f"{cfg['act']!r}")
    if cfg['act'] == 'gelu' and pretrained is not None:
        raise ConfigError(
            f'CLIP {tower} adapter: refusing to load {pretrained} into an '
            "exact-GELU model; OpenAI CLIP weights need act='quick_gelu'")
    return cfg


def load_clip_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read a full CLIP state dict (OpenAI/open_clip names) as float32.

    Accepts OpenAI's TorchScript archive (``ViT-B-32.pt``) or a
    ``torch.save`` d state dict (read with ``weights_only=True``; a
    ``state_dict`` entry and a ``module.`` prefix are unwrapped).
    """
    if not osp.isfile(path):
        raise CheckpointError(f'CLIP weights not found: {path}')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as first:  # noqa: BLE001 - maybe TorchScript
        if not zipfile.is_zipfile(path):
            raise CheckpointError(
                f'cannot read CLIP weights {path}: {first}') from None
        try:
            state = torch.jit.load(path, map_location='cpu').state_dict()
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(
                f'cannot read CLIP weights {path}: {exc}') from None
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: expected a state dict, got '
                              f'{type(state).__name__}')
    return {
        k[len('module.'):] if k.startswith('module.') else k:
        v.float() if v.is_floating_point() else v
        for k, v in state.items()
    }


def _load_tower(module: nn.Module, state: Dict[str, torch.Tensor],
                prefix: str, path: str, exclude: Sequence[str] = ()):
    """Strictly load the keys under ``prefix`` ('' = all but ``exclude``)."""
    if prefix:
        sub = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
    else:
        sub = {k: v for k, v in state.items()
               if not k.startswith(exclude) and k not in _NON_TOWER_KEYS}
    own = module.state_dict()
    missing = sorted(set(own) - set(sub))
    extra = sorted(set(sub) - set(own))
    shape = sorted(f'{k} {tuple(sub[k].shape)} vs {tuple(own[k].shape)}'
                   for k in set(own) & set(sub)
                   if sub[k].shape != own[k].shape)
    if missing or extra or shape:
        parts = [f'{name}: {", ".join(keys[:6])}'
                 for name, keys in (('missing', missing), ('unexpected',
                                                           extra),
                                    ('wrong shape', shape)) if keys]
        raise CheckpointError(f'CLIP weights {path} do not fit the '
                              f'{type(module).__name__}: ' + '; '.join(parts))
    module.load_state_dict(sub, strict=True)


@MODELS.register_module()
class CLIPVisionAdapter(nn.Module):
    """CLIP image tower -> ``encode_image`` features.

    Args:
        arch (str, optional): ``'ViT-B-32-quickgelu'`` (default). The
            exact-GELU ``'ViT-B-32'`` is refused. None with ``vision_cfg``
            for a custom (e.g. small test) tower.
        pretrained (str, optional): Local CLIP weights (full model).
        vision_cfg (dict, optional): :class:`CLIPVisionTransformer`
            arguments (override the arch's).
    """

    def __init__(self,
                 arch: Optional[str] = 'ViT-B-32-quickgelu',
                 pretrained: Optional[str] = None,
                 vision_cfg: Optional[dict] = None) -> None:
        super().__init__()
        cfg = _resolve_arch(arch, 'vision', vision_cfg, pretrained)
        self.visual = CLIPVisionTransformer(**cfg)
        self.pretrained = pretrained
        self.out_dim = self.visual.output_dim
        if pretrained is not None:
            _load_tower(self.visual, load_clip_state_dict(pretrained),
                        'visual.', pretrained)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, 224, 224)`` CLIP-normalised -> ``(B, out_dim)``."""
        return self.visual(images)


def _open_clip_tokenizer():
    """open_clip's BPE ``SimpleTokenizer`` (ids equal OpenAI's).

    ``open_clip/tokenizer.py`` is self-contained (ftfy, regex, its bundled
    vocabulary), so it is loaded from the installed package *without*
    importing ``open_clip`` itself, which needs a torchvision matching
    torch.
    """
    try:
        spec = importlib.util.find_spec('open_clip')
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "CLIPTextAdapter tokenizer='open_clip' needs the optional extra "
            'open_clip_torch (pip install --no-deps open_clip_torch ftfy '
            'regex; --no-deps keeps pip away from torch/torchvision)')
    path = osp.join(list(spec.submodule_search_locations)[0], 'tokenizer.py')
    module_spec = importlib.util.spec_from_file_location(
        'mmmrhd_open_clip_tokenizer', path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ImportError as exc:
        raise ConfigError(f'open_clip tokenizer {path}: {exc} (pip install '
                          'ftfy regex)') from None
    return module.SimpleTokenizer()


@MODELS.register_module()
class CLIPTextAdapter(nn.Module):
    """CLIP text tower -> moment_detr's per-token query features.

    Args:
        arch (str, optional): ``'ViT-B-32-quickgelu'`` (default); the
            exact-GELU ``'ViT-B-32'`` is refused.
        pretrained (str, optional): Local CLIP weights (full model).
        text_cfg (dict, optional): :class:`CLIPTextTransformer` arguments.
        tokenizer (str | callable): ``'open_clip'`` (its BPE
            ``SimpleTokenizer``), or a callable ``str -> list[int]`` of BPE
            ids without SOT/EOT, or its dotted import path (for configs).
        max_bpe_tokens (int): BPE tokens kept (30: moment_detr
            ``max_valid_length`` 32 minus SOT and EOT).
        sot_token (int, optional): SOT id (default: the tokenizer's, OpenAI
            49406).
        eot_token (int, optional): EOT id (default: the tokenizer's, OpenAI
            49407; must be the largest id, pooling takes the argmax).
    """

    def __init__(self,
                 arch: Optional[str] = 'ViT-B-32-quickgelu',
                 pretrained: Optional[str] = None,
                 text_cfg: Optional[dict] = None,
                 tokenizer: Union[str, Callable[[str], List[int]]] =
                 'open_clip',
                 max_bpe_tokens: int = 30,
                 sot_token: Optional[int] = None,
                 eot_token: Optional[int] = None) -> None:
        super().__init__()
        cfg = _resolve_arch(arch, 'text', text_cfg, pretrained)
        self.text = CLIPTextTransformer(**cfg)
        self.pretrained = pretrained
        self.out_dim = self.text.width
        if pretrained is not None:
            _load_tower(self.text, load_clip_state_dict(pretrained), '',
                        pretrained, exclude=('visual.', ))
        if max_bpe_tokens + 2 > self.text.context_length:
            raise ConfigError(f'max_bpe_tokens {max_bpe_tokens} + 2 exceeds '
                              f'the context length {self.text.context_length}')
        self._tokenizer_cfg = tokenizer
        self._tokenizer = None
        self.max_bpe_tokens = max_bpe_tokens
        self.sot_token = sot_token
        self.eot_token = eot_token

    def _tokenize(self, text: str) -> List[int]:
        if self._tokenizer is None:
            if self._tokenizer_cfg == 'open_clip':
                tok = _open_clip_tokenizer()
                self._tokenizer = tok.encode
                self.sot_token = self.sot_token or tok.sot_token_id
                self.eot_token = self.eot_token or tok.eot_token_id
            elif callable(self._tokenizer_cfg):
                self._tokenizer = self._tokenizer_cfg
            elif isinstance(self._tokenizer_cfg, str) and (
                    '.' in self._tokenizer_cfg):
                module, _, name = self._tokenizer_cfg.rpartition('.')
                try:
                    self._tokenizer = getattr(
                        importlib.import_module(module), name)
                except (ImportError, AttributeError) as exc:
                    raise ConfigError(f'cannot import tokenizer '
                                      f'{self._tokenizer_cfg!r}: {exc}'
                                      ) from None
            else:
                raise ConfigError(f"tokenizer must be 'open_clip', a dotted "
                                  f'path or a callable, got '
                                  f'{self._tokenizer_cfg!r}')
            if self.sot_token is None or self.eot_token is None:
                raise ConfigError('CLIPTextAdapter: sot_token and eot_token '
                                  'are needed with a custom tokenizer')
        ids = list(self._tokenizer(text))[:self.max_bpe_tokens]
        return [self.sot_token] + ids + [self.eot_token]

    def tokenize(self, queries: Sequence[str]):
        """Token ids: SOT + first ``max_bpe_tokens`` BPE ids + EOT.

        Returns:
            tuple[Tensor, list[int]]: int64 ``(N, context_length)`` ids,
            zero padded, and the number of valid tokens of each query
            (OpenAI's BPE id 0 is a real token, so lengths are kept).
        """
        out = torch.zeros(len(queries), self.text.context_length,
                          dtype=torch.long)
        lengths = []
        for i, query in enumerate(queries):
            if not isinstance(query, str) or not query.strip():
                raise ValueError(f'query {i} is empty or not a string: '
                                 f'{query!r}')
            ids = self._tokenize(query)
            out[i, :len(ids)] = torch.tensor(ids)
            lengths.append(len(ids))
        return out, lengths

    @torch.no_grad()
    def encode(self, queries: Sequence[str]) -> List[Dict[str, np.ndarray]]:
        """Per query ``last_hidden_state`` float32 ``(T, width)`` (T = BPE
        tokens kept + 2) and ``pooler_output`` float32 ``(embed_dim,)``."""
        tokens, lengths = self.tokenize(queries)
        self.eval()
        device = self.text.text_projection.device
        hidden, pooled = self.text(tokens.to(device))
        return [
            dict(
                last_hidden_state=hidden[i, :lengths[i]].float().cpu().numpy(),
                pooler_output=pooled[i].float().cpu().numpy())
            for i in range(len(queries))
        ]
