# Copyright (c) mmmrhd contributors. All rights reserved.
"""Batch-first multi-head attention on top of fused SDPA.

Two flavours are used by the Moment-DETR family:

* :class:`MultiheadAttention`: the ``nn.MultiheadAttention`` of the encoders
  (packed ``in_proj_weight`` (3E, E), ``in_proj_bias`` (3E,), ``out_proj``),
  with the same parameter names so official checkpoints convert 1:1.
* :class:`ProjectionFreeAttention`: the custom attention of the DAB/
  Conditional-DETR decoder (official ``attention.py``): inputs are already
  projected, the query/key width may differ from the value width, and only
  ``out_proj`` (Ev, Ev) has weights.

Both call :func:`multi_head_attention`, which runs
:func:`torch.nn.functional.scaled_dot_product_attention` (no Python loop over
the batch or the heads), except for attention-weight dropout on the CPU:
there SDPA has no fused kernel and falls back to the same math with
``bernoulli_`` masks, so the math is written out with the faster
:func:`~mmmrhd.models.layers.dropout.dropout`. Masks follow the SDPA
convention: a boolean ``attn_mask`` broadcastable to ``(B, H, Lq, Lk)`` with
**True = may attend**.
"""
import math
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .dropout import dropout_noise


def key_padding_to_attn_mask(key_valid: Tensor) -> Tensor:
    """Turn a key validity mask into an SDPA boolean mask.

    Args:
        key_valid (Tensor): ``(B, Lk)``, nonzero = valid key.

    Returns:
        Tensor: Bool ``(B, 1, 1, Lk)``, True = may attend.
    """
    return key_valid.bool()[:, None, None, :]


def multi_head_attention(query: Tensor,
                         key: Tensor,
                         value: Tensor,
                         num_heads: int,
                         attn_mask: Optional[Tensor] = None,
                         dropout_p: float = 0.0,
                         scale: Optional[float] = None) -> Tensor:
    """Scaled dot-product attention over ``num_heads`` heads.

    Args:
        query (Tensor): ``(B, Lq, E)``; head ``h`` owns channels
            ``[h*E/H, (h+1)*E/H)``.
        key (Tensor): ``(B, Lk, E)``.
        value (Tensor): ``(B, Lk, Ev)``.
        num_heads (int): ``H``; must divide ``E`` and ``Ev``.
        attn_mask (Tensor, optional): Bool, broadcastable to
            ``(B, H, Lq, Lk)``, True = may attend. Every query row must keep
            at least one key.
        dropout_p (float): Dropout on the attention weights (pass 0 in eval).
        scale (float, optional): Logit scale. Defaults to ``(E/H) ** -0.5``.

    Returns:
        Tensor: ``(B, Lq, Ev)``, heads concatenated (before any output
        projection).
    """
    b, lq, e = query.shape
    lk, ev = key.shape[1], value.shape[-1]
    if dropout_p > 0 and query.device.type == 'cpu':
        return _attention_with_dropout(query, key, value, num_heads,
                                       attn_mask, dropout_p, scale)
    q = query.reshape(b, lq, num_heads, e // num_heads).transpose(1, 2)
    k = key.reshape(b, lk, num_heads, e // num_heads).transpose(1, 2)
    v = value.reshape(b, lk, num_heads, ev // num_heads).transpose(1, 2)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, scale=scale)
    return out.transpose(1, 2).reshape(b, lq, ev)


def _heads(x: Tensor, num_heads: int) -> Tensor:
    """``(B, L, E)`` -> contiguous ``(B*H, L, E/H)`` (one copy)."""
    b, n, e = x.shape
    return x.reshape(b, n, num_heads, e // num_heads).transpose(1, 2).reshape(
        b * num_heads, n, e // num_heads)


class _DroppedAttention(torch.autograd.Function):
    """``bmm(softmax(q k^T + bias) * noise, v)`` with a hand-written
    backward over contiguous ``(B*H, L, d)`` operands.

    Autograd's version of the same graph (batched ``matmul`` on transposed
    head views, ``masked_fill``, dropout ``mul``) copied every head matrix
    one by one in the backward; this one runs six batched GEMMs, one
    softmax and its backward: about 40 % faster per encoder layer on a
    2-core CPU (B=32, L=107, H=8), same floating-point operations.
    """

    @staticmethod
    def forward(ctx: Any, q: Tensor, k: Tensor, v: Tensor,
                bias: Optional[Tensor], noise: Tensor,
                num_heads: int) -> Tensor:
        """``q`` (N, Lq, d) already scaled, ``k`` (N, Lk, d), ``v``
        (N, Lk, dv), ``bias`` additive, broadcastable to (N/H, H, Lq, Lk),
        ``noise`` (N, Lq, Lk) dropout multipliers; returns (N, Lq, dv)."""
        logits = torch.bmm(q, k.transpose(1, 2))
        if bias is not None:
            n, lq, lk = logits.shape
            logits.view(n // num_heads, num_heads, lq, lk).add_(bias)
        weights = torch.softmax(logits, -1)
        dropped = weights * noise
        ctx.save_for_backward(q, k, v, weights, dropped, noise)
        return torch.bmm(dropped, v)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        q, k, v, weights, dropped, noise = ctx.saved_tensors
        grad = grad.contiguous()
        grad_v = torch.bmm(dropped.transpose(1, 2), grad)
        grad_w = torch.bmm(grad, v.transpose(1, 2)).mul_(noise)
        grad_logits = torch._softmax_backward_data(grad_w, weights, -1,
                                                   weights.dtype)
        grad_q = torch.bmm(grad_logits, k)
        grad_k = torch.bmm(grad_logits.transpose(1, 2), q)
        return grad_q, grad_k, grad_v, None, None, None


def _attention_with_dropout(query: Tensor, key: Tensor, value: Tensor,
                            num_heads: int, attn_mask: Optional[Tensor],
                            dropout_p: float,
                            scale: Optional[float]) -> Tensor:
    """``softmax(q k^T * scale + mask) -> dropout -> @ v`` per head.

    On the CPU, SDPA with dropout falls back to this same math with
    ``bernoulli_`` masks; here the weights are dropped with the faster
    :func:`~mmmrhd.models.layers.dropout.dropout_noise` (same distribution;
    the mask of element ``(b, h, i, j)`` is the one ``dropout`` draws for a
    ``(B, H, Lq, Lk)`` tensor) and the math runs in
    :class:`_DroppedAttention`.

    Args:
        query (Tensor): ``(B, Lq, E)``.
        key (Tensor): ``(B, Lk, E)``.
        value (Tensor): ``(B, Lk, Ev)``.
        num_heads (int): ``H``.
        attn_mask (Tensor, optional): Bool, broadcastable to
            ``(B, H, Lq, Lk)``, True = may attend.
        dropout_p (float): Dropout on the attention weights.
        scale (float, optional): Defaults to ``(E/H) ** -0.5``.

    Returns:
        Tensor: ``(B, Lq, Ev)``.
    """
    b, lq, e = query.shape
    lk, ev = key.shape[1], value.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(e // num_heads)
    bias = None
    if attn_mask is not None:
        bias = torch.zeros(
            attn_mask.shape, dtype=query.dtype,
            device=query.device).masked_fill_(~attn_mask, float('-inf'))
    noise = dropout_noise((b * num_heads, lq, lk), dropout_p, query.dtype,
                          query.device)
    out = _DroppedAttention.apply(
        _heads(query * scale, num_heads), _heads(key, num_heads),
        _heads(value, num_heads), bias, noise, num_heads)
    return out.view(b, num_heads, lq, ev // num_heads).transpose(1, 2).reshape(
        b, lq, ev)


class MultiheadAttention(nn.Module):
    """Batch-first ``nn.MultiheadAttention`` equivalent with fused SDPA.

    Same parameters, names and initialisation as ``nn.MultiheadAttention``
    (``bias=True``, equal q/k/v widths): ``in_proj_weight`` (3E, E) xavier,
    ``in_proj_bias`` (3E,) zeros, ``out_proj`` Linear(E, E) with zero bias.
    When ``query is key`` (self-attention) q and k come from one ``(2E, E)``
    projection, as in ``nn.MultiheadAttention``'s packed path.

    Args:
        embed_dim (int): ``E``.
        num_heads (int): ``H``.
        dropout (float): Dropout on the attention weights. Defaults to 0.
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f'MultiheadAttention: embed_dim {embed_dim} is '
                             f'not divisible by num_heads {num_heads}')
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(
            torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        return (f'embed_dim={self.embed_dim}, num_heads={self.num_heads}, '
                f'dropout={self.dropout}')

    def forward(self,
                query: Tensor,
                key: Tensor,
                value: Tensor,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Project, attend, project back.

        Args:
            query (Tensor): ``(B, Lq, E)``.
            key (Tensor): ``(B, Lk, E)``.
            value (Tensor): ``(B, Lk, E)``.
            attn_mask (Tensor, optional): Bool, broadcastable to
                ``(B, H, Lq, Lk)``, True = may attend.

        Returns:
            Tensor: ``(B, Lq, E)``.
        """
        e = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key:
            # Self-attention: one (2E, E) projection for q and k.
            q, k = F.linear(query, w[:2 * e], b[:2 * e]).split(e, dim=-1)
        else:
            q = F.linear(query, w[:e], b[:e])
            k = F.linear(key, w[e:2 * e], b[e:2 * e])
        out = multi_head_attention(
            q,
            k,
            F.linear(value, w[2 * e:], b[2 * e:]),
            self.num_heads,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out)


class ProjectionFreeAttention(nn.Module):
    """Attention without input projections (DAB/Conditional-DETR decoder).

    The official module (``attention.py``, a trimmed copy of PyTorch's MHA)
    scales the query by ``(E/H) ** -0.5`` with ``E`` the query/key width and
    applies ``out_proj = Linear(Ev, Ev)`` (zero bias at init) to the
    concatenated heads. In the decoder's cross-attention ``E = 2 * Ev``:
    each head's query/key is the concatenation of a content part and a
    positional part.

    Args:
        embed_dim (int): Query/key width ``E``.
        num_heads (int): ``H``.
        value_dim (int, optional): Value width ``Ev``. Defaults to ``E``.
        dropout (float): Dropout on the attention weights. Defaults to 0.
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int,
                 value_dim: Optional[int] = None,
                 dropout: float = 0.0) -> None:
        super().__init__()
        value_dim = value_dim or embed_dim
        if embed_dim % num_heads or value_dim % num_heads:
            raise ValueError(
                f'ProjectionFreeAttention: embed_dim {embed_dim} and '
                f'value_dim {value_dim} must be divisible by num_heads '
                f'{num_heads}')
        self.embed_dim = embed_dim
        self.value_dim = value_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.scale = 1.0 / math.sqrt(embed_dim // num_heads)
        self.out_proj = nn.Linear(value_dim, value_dim)
        nn.init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        return (f'embed_dim={self.embed_dim}, value_dim={self.value_dim}, '
                f'num_heads={self.num_heads}, dropout={self.dropout}')

    def forward(self,
                query: Tensor,
                key: Tensor,
                value: Tensor,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Attend with already-projected inputs.

        Args:
            query (Tensor): ``(B, Lq, E)``.
            key (Tensor): ``(B, Lk, E)``.
            value (Tensor): ``(B, Lk, Ev)``.
            attn_mask (Tensor, optional): Bool, broadcastable to
                ``(B, H, Lq, Lk)``, True = may attend.

        Returns:
            Tensor: ``(B, Lq, Ev)``.
        """
        out = multi_head_attention(
            query,
            key,
            value,
            self.num_heads,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
            scale=self.scale)
        return self.out_proj(out)
