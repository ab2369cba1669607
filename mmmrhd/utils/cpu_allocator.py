# Copyright (c) mmmrhd contributors. All rights reserved.
"""Keep freed tensor memory in the process heap (glibc ``mallopt``).

PyTorch's CPU tensors come from ``malloc``. With glibc's defaults, blocks
above the (dynamic) mmap threshold are mapped fresh from the kernel and
unmapped again when freed, and the heap top is returned to the kernel once
128 KiB of it are free. A training step allocates and frees the same large
activations every iteration (e.g. the ``(B, L, 2818)`` dropped input
features, 27 MB at B=32), so every step page-faults them in again: on a
2-core VM about 2,700 minor faults per Moment-DETR step, and both OpenMP
threads fault concurrently into the same address space, which made an
element-wise ``mul`` into fresh memory 2-3x slower than into reused memory
(``docs/en/user_guides/benchmark.md``, "Allocator").

:func:`tune_cpu_allocator` raises the mmap threshold to glibc's maximum
(32 MiB on 64-bit) and the trim threshold to 1 GiB, so freed blocks stay in
the heap and are reused by the next step. Results are unchanged (only where
memory comes from); peak memory is unchanged; memory freed by the program
is returned to the kernel later (above 1 GiB of free heap top, or at exit).

The CLI tools (everything that goes through :func:`mmmrhd.utils.cli.run_main`)
and :class:`~mmmrhd.apis.MRHDInferencer` call it. Set the environment
variable ``MMMRHD_CPU_ALLOCATOR=default`` to keep glibc's defaults. On
non-glibc systems (macOS, Windows, musl) it does nothing.
"""
import ctypes
import ctypes.util
import os
import sys
from typing import Optional

from .errors import ConfigError

#: Environment switch: ``tuned`` (default) or ``default``.
ENV_VAR = 'MMMRHD_CPU_ALLOCATOR'

# glibc <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

#: glibc refuses mmap thresholds above HEAP_MAX_SIZE / 2, 32 MiB on 64-bit
#: (malloc/malloc.c, DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free heap top kept before it is given back to the kernel.
TRIM_THRESHOLD = 1024 * 1024 * 1024
#: Extra heap requested per ``brk`` (fewer, larger heap extensions).
TOP_PAD = 64 * 1024 * 1024

_applied: Optional[bool] = None


def _glibc() -> Optional[ctypes.CDLL]:
    """The C library if it is glibc (has ``gnu_get_libc_version``)."""
    if not sys.platform.startswith('linux'):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.gnu_get_libc_version  # noqa: B018 (glibc-only symbol)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def tune_cpu_allocator(enable: Optional[bool] = None) -> bool:
    """Make glibc keep freed tensor memory for reuse (see module doc).

    Args:
        enable (bool, optional): Force on/off. Defaults to the environment
            variable ``MMMRHD_CPU_ALLOCATOR`` (``tuned`` unless it is
            ``default``).

    Returns:
        bool: Whether the tuned settings are in effect in this process.

    Raises:
        ConfigError: If ``MMMRHD_CPU_ALLOCATOR`` is neither ``tuned`` nor
            ``default``.
    """
    global _applied
    if enable is None:
        value = os.environ.get(ENV_VAR, 'tuned').strip().lower()
        if value not in ('tuned', 'default'):
            raise ConfigError(f'{ENV_VAR}={value!r}: expected "tuned" or '
                             '"default"')
        enable = value == 'tuned'
    if not enable:
        return bool(_applied)
    if _applied:
        return True
    libc = _glibc()
    if libc is None:
        _applied = False
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    _applied = all(
        libc.mallopt(param, value) == 1
        for param, value in ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                             (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                             (_M_TOP_PAD, TOP_PAD)))
    return _applied
