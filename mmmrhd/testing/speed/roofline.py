# Copyright (c) mmmrhd contributors. All rights reserved.
"""Work per step against the machine's matrix-product peak: the best
speed-up a given amount of work allows."""
import time
from typing import List, Sequence

import torch
from terminaltables import AsciiTable
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from .runner import Runner, _row_step


#: (M, K, N) of ``torch.mm`` probes for the machine's matrix-product peak:
#: the video input projection and the FFN of the default shapes, and a
#: large square product.
PEAK_SHAPES = ((2400, 2818, 256), (3424, 256, 1024), (2048, 2048, 2048))


def gemm_peak(device: torch.device, repeats: int = 10,
              trials: int = 3) -> float:
    """Best ``torch.mm`` GFLOP/s over :data:`PEAK_SHAPES` on ``device`` (best
    of ``trials`` timings of ``repeats`` products each): the rate no
    implementation's matrix products exceed on this machine."""
    best = 0.0
    for m, k, n in PEAK_SHAPES:
        a = torch.randn(m, k, device=device)
        b = torch.randn(k, n, device=device)
        for _ in range(2):
            torch.mm(a, b)
        for _ in range(trials):
            _sync(device)
            start = time.perf_counter()
            for _ in range(repeats):
                torch.mm(a, b)
            _sync(device)
            seconds = time.perf_counter() - start
            best = max(best, 2 * m * k * n * repeats / seconds / 1e9)
    return best


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class _FlopCount(TorchDispatchMode):
    """Sum of ``torch.utils.flop_counter``'s per-op formulas over every op
    dispatched inside (``FlopCounterMode`` without its module tracker,
    which cannot follow modules called with parameters under
    ``no_grad``)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def step_flops(runner: Runner, row: str) -> int:
    """FLOPs of one step of ``row`` (``torch.utils.flop_counter``'s
    formulas: matrix products, convolutions and attention kernels, forward
    and backward); the step runs once more, untimed."""
    fn, _ = _row_step(runner, row, 1, 1)
    with runner.patch(), _FlopCount() as counter:
        fn()
    return counter.total


def roofline(runners: Sequence[Runner], rows: Sequence[str],
             results: List[dict], batch_size: int,
             device: torch.device) -> List[dict]:
    """Work per step and the best ratio that work allows on this machine.

    For each row: the counted GFLOP of every runner, ours at the machine's
    matrix-product peak (``gemm_peak``; a bound no implementation of the
    same work beats, since everything else only adds time), and
    ``max_ratio`` = that bound against the measured official (or anchor)
    samples/s. A target above ``max_ratio`` cannot be met without doing
    less work.
    """
    peak = gemm_peak(device)
    out = []
    for row, res in zip(rows, results):
        info = dict(row=row, peak_gflops=peak)
        for runner in runners:
            info[f'{runner.name}_gflop'] = step_flops(runner, row) / 1e9
        bound = batch_size / (info['ours_gflop'] / peak)
        info['ours_at_peak'] = bound
        ref = res.get('official', res.get('anchor'))
        if ref:
            info['max_ratio'] = bound / ref
        out.append(info)
    table = [['row', 'ours GFLOP/step', 'official GFLOP/step',
              'ours at peak samples/s', 'max ratio at this work']]
    for info in out:
        official = info.get('official_gflop')
        table.append([
            info['row'], f"{info['ours_gflop']:.2f}",
            'n/a' if official is None else f'{official:.2f}',
            f"{info['ours_at_peak']:.2f}",
            f"{info['max_ratio']:.2f}x" if 'max_ratio' in info else 'n/a'
        ])
    print(f'roofline: matrix-product peak of this machine {peak:.1f} GFLOP/s '
          f'(best torch.mm of {list(PEAK_SHAPES)})')
    print(AsciiTable(table).table)
    return out
