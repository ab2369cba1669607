# Copyright (c) mmmrhd contributors. All rights reserved.
"""CLIP ViT image and text towers with OpenAI parameter names.

Parameter names equal OpenAI CLIP's (``openai/CLIP`` ``clip/model.py``)
and open_clip's ``CLIP`` (``visual.conv1.weight``,
``transformer.resblocks.0.attn.in_proj_weight``, ``ln_final.weight``,
``text_projection``, ...), so an OpenAI or open_clip state dict loads
without a key map. The activation is explicit: OpenAI's weights were
trained with QuickGELU (``x * sigmoid(1.702 x)``); running them with
exact GELU (open_clip's plain ``ViT-B-32``) changes the features by ~0.8%
and is refused by the adapters.
"""
from collections import OrderedDict
from typing import Optional

import torch
from torch import Tensor, nn

__all__ = [
    'QuickGELU', 'ResidualAttentionBlock', 'CLIPTransformer',
    'CLIPVisionTransformer', 'CLIPTextTransformer', 'ACTIVATIONS'
]


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)`` (OpenAI CLIP ``QuickGELU``)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {'quick_gelu': QuickGELU, 'gelu': nn.GELU}


class LayerNormFP32(nn.LayerNorm):
    """LayerNorm computed in float32 (OpenAI ``LayerNorm`` subclass), so
    half-precision weights/inputs behave as in the reference."""

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        return super().forward(x.float()).to(dtype)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: ``x + attn(ln_1(x))``, ``x + mlp(ln_2(x))``.

    Args:
        width (int): Channels.
        heads (int): Attention heads.
        act (str): ``'quick_gelu'`` (OpenAI) or ``'gelu'``.
    """

    def __init__(self, width: int, heads: int, act: str) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = LayerNormFP32(width)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(width, width * 4)),
                         ('gelu', ACTIVATIONS[act]()),
                         ('c_proj', nn.Linear(width * 4, width))]))
        self.ln_2 = LayerNormFP32(width)

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None):
        """``(L, B, width) -> (L, B, width)`` (sequence first, as OpenAI)."""
        mask = None if attn_mask is None else attn_mask.to(x.dtype)
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class CLIPTransformer(nn.Module):
    """A stack of :class:`ResidualAttentionBlock` (``resblocks``)."""

    def __init__(self, width: int, layers: int, heads: int, act: str):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.ModuleList(
            ResidualAttentionBlock(width, heads, act) for _ in range(layers))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None):
        """``(L, B, width) -> (L, B, width)``."""
        for block in self.resblocks:
            x = block(x, attn_mask)
        return x


class CLIPVisionTransformer(nn.Module):
    """CLIP image tower (``visual``): patches + class token -> projected
    class-token embedding.

    Args:
        image_size (int): Input side (224).
        patch_size (int): Patch side (32 for ViT-B/32).
        width (int): Channels (768).
        layers (int): Blocks (12).
        heads (int): Heads (12).
        output_dim (int): Embedding width (512).
        act (str): Activation (``'quick_gelu'`` for OpenAI weights).
    """

    def __init__(self,
                 image_size: int = 224,
                 patch_size: int = 32,
                 width: int = 768,
                 layers: int = 12,
                 heads: int = 12,
                 output_dim: int = 512,
                 act: str = 'quick_gelu') -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f'image_size {image_size} is not a multiple of '
                             f'patch_size {patch_size}')
        self.image_size = image_size
        self.output_dim = output_dim
        self.conv1 = nn.Conv2d(3, width, patch_size, patch_size, bias=False)
        scale = width**-0.5
        num_tokens = (image_size // patch_size)**2 + 1
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn(num_tokens, width))
        self.ln_pre = LayerNormFP32(width)
        self.transformer = CLIPTransformer(width, layers, heads, act)
        self.ln_post = LayerNormFP32(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 3, S, S)`` normalised images -> ``(B, output_dim)``
        (OpenAI ``encode_image``, not L2-normalised)."""
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f'CLIP expects {self.image_size}x'
                             f'{self.image_size} images, got '
                             f'{tuple(x.shape[-2:])}')
        x = self.conv1(x.to(self.conv1.weight.dtype))
        x = x.flatten(2).permute(0, 2, 1)  # (B, grid**2, width)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIPTextTransformer(nn.Module):
    """CLIP text tower: causal transformer over token ids.

    Args:
        context_length (int): Positions (77).
        vocab_size (int): Vocabulary (49408).
        width (int): Channels (512).
        heads (int): Heads (8).
        layers (int): Blocks (12).
        embed_dim (int): Projected width (512).
        act (str): Activation (``'quick_gelu'`` for OpenAI weights).
    """

    def __init__(self,
                 context_length: int = 77,
                 vocab_size: int = 49408,
                 width: int = 512,
                 heads: int = 8,
                 layers: int = 12,
                 embed_dim: int = 512,
                 act: str = 'quick_gelu') -> None:
        super().__init__()
        self.context_length = context_length
        self.width = width
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(
            0.01 * torch.randn(context_length, width))
        self.transformer = CLIPTransformer(width, layers, heads, act)
        self.ln_final = LayerNormFP32(width)
        self.text_projection = nn.Parameter(
            width**-0.5 * torch.randn(width, embed_dim))
        mask = torch.full((context_length, context_length), float('-inf'))
        self.register_buffer('attn_mask', mask.triu_(1), persistent=False)

    def forward(self, tokens: Tensor):
        """Per-token hidden states and the pooled embedding.

        Args:
            tokens (Tensor): int64 ``(B, context_length)`` ids, SOT first,
                EOT (the largest id) last, zero padded.

        Returns:
            tuple[Tensor, Tensor]: ``last_hidden_state`` ``(B, L, width)``
            = ``ln_final(transformer(emb + pos))`` without projection, and
            ``pooler_output`` ``(B, embed_dim)`` = the EOT token's state x
            ``text_projection`` (OpenAI ``encode_text``).
        """
        if tokens.shape[1] != self.context_length:
            raise ValueError(f'token ids must have {self.context_length} '
                             f'positions, got {tokens.shape[1]}')
        dtype = self.text_projection.dtype
        x = self.token_embedding(tokens).to(dtype)
        x = x + self.positional_embedding.to(dtype)
        x = self.transformer(x.permute(1, 0, 2), self.attn_mask)
        hidden = self.ln_final(x.permute(1, 0, 2))
        eot = tokens.argmax(dim=-1)
        pooled = hidden[torch.arange(len(tokens)), eot] @ self.text_projection
        return hidden, pooled
