# Copyright (c) mmmrhd contributors. All rights reserved.
"""Dropout whose CPU mask is built from random integer bits (faster).

PyTorch's CPU dropout draws its mask with ``bernoulli_(1 - p)``, a serial
per-element kernel that took about a quarter of a TaskWeave training step
on a 2-core CPU. Here the mask comes from full-range random 64-bit words
read as 32-bit integers. On the CPU the words come from numpy's PCG64 bit
generator (``random_raw``, about 2x faster per word than torch's Mersenne
Twister ``random_``), seeded by one draw from torch's default generator, so
torch seeding and RNG-state checkpoints still determine every mask:
element ``i`` is kept iff ``u_i < q * 2**32`` (shifted to signed ``int32``)
with ``q = float32(1 - p)``. ``q * 2**32`` is an integer for every float32
``q >= 2**-8``, so each element is kept independently with probability
exactly ``float32(1 - p)``: the rule of the CUDA dropout kernel and of a
float32 uniform comparison. For ``p = 0.5`` one random byte per element is
enough (kept iff its sign bit is 0, probability exactly 1/2).

The kept elements are scaled with the same float operations as
``F.dropout`` (``noise = mask / (1 - p)``, ``out = x * noise``), so the
output distribution and the gradient (``grad * noise``) are those of
``F.dropout``; only the random stream differs (it still comes from the
default generator, so seeding and RNG-state checkpoints work as usual). Eval
mode and ``p = 0`` return the input itself. Other devices and dtypes and
``p > 1 - 2**-8`` use ``F.dropout``.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Smallest keep probability of the integer-threshold path (see above).
_MIN_KEEP = 2.0**-8


def _random_words(num_bytes: int, device: torch.device) -> Tensor:
    """``ceil(num_bytes / 8)`` uniform int64 words (all 64 bits random).

    CPU: numpy PCG64 seeded from the default torch generator (one draw);
    other devices: torch's ``random_``.
    """
    num_words = (num_bytes + 7) // 8
    if device.type == 'cpu':
        seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
        words = np.random.PCG64(seed).random_raw(num_words)
        return torch.from_numpy(words.view(np.int64))
    return torch.empty(
        num_words, dtype=torch.int64, device=device).random_(-2**63, None)


def keep_mask(x: Tensor, keep: float) -> Tensor:
    """Bool mask like ``x``, each element True with probability
    ``float32(keep)`` (``2**-8 <= keep < 1``), independently."""
    n = x.numel()
    if keep == 0.5:
        byte = _random_words(n, x.device).view(torch.int8)[:n]
        return (byte >= 0).view(x.shape)
    keep32 = torch.tensor(keep, dtype=torch.float32).item()
    threshold = int(keep32 * 2**32) - 2**31  # exact: keep32 >= 2**-8
    word = _random_words(4 * n, x.device).view(torch.int32)[:n]
    return (word < threshold).view(x.shape)


def dropout_noise(shape: torch.Size, p: float, dtype: torch.dtype,
                  device: torch.device) -> Tensor:
    """The multipliers of :func:`dropout` for a tensor of ``shape``: 0 for
    dropped elements, ``1 / (1 - p)`` for kept ones (``0 < p <= 1``).

    CPU float32 uses :func:`keep_mask` (the mask :func:`dropout` would draw
    for a tensor of this shape); other cases ``bernoulli_``.
    """
    keep = 1.0 - p
    if keep == 0.0:
        return torch.zeros(shape, dtype=dtype, device=device)
    if device.type == 'cpu' and dtype == torch.float32 and \
            _MIN_KEEP <= keep < 1:
        like = torch.empty((), device=device).expand(shape)
        return keep_mask(like, keep).to(dtype).div_(keep)
    return torch.empty(shape, dtype=dtype, device=device).bernoulli_(
        keep).div_(keep)


def dropout(x: Tensor,
            p: float,
            training: bool = True,
            inplace: bool = False) -> Tensor:
    """``F.dropout`` with the faster CPU mask described above.

    Args:
        x (Tensor): Input of any shape.
        p (float): Drop probability in ``[0, 1]``.
        training (bool): Apply dropout. Defaults to True.
        inplace (bool): Multiply ``x`` in place. Defaults to False.

    Returns:
        Tensor: Same shape as ``x``.
    """
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    if x.device.type != 'cpu' or x.dtype != torch.float32 or \
            not _MIN_KEEP <= keep < 1:
        return F.dropout(x, p, training, inplace)
    noise = dropout_noise(x.shape, p, x.dtype, x.device)
    return x.mul_(noise) if inplace else x * noise


class Dropout(nn.Dropout):
    """``nn.Dropout`` drop-in (same arguments, no state) using
    :func:`dropout`."""

    def forward(self, input: Tensor) -> Tensor:
        """Apply dropout in training mode; identity in eval mode."""
        return dropout(input, self.p, self.training, self.inplace)
