# Copyright (c) mmmrhd contributors. All rights reserved.
"""Tolerance-aware comparisons used by the parity checks.

Tolerances are those of the fixtures README §11:

* outputs, losses, total: ``atol 1e-5, rtol 1e-4`` (:data:`OUT_TOL`);
* ``class_error`` and matcher indices: exactly;
* gradients: ``atol 1e-5 * grad_total_norm, rtol 1e-3`` (a per-tensor rtol
  alone fails on gradients that are mathematically zero but numerically
  noise).
"""
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch

OUT_TOL = (1e-5, 1e-4)  # fixtures README §11: atol, rtol
GRAD_RTOL = 1e-3
GRAD_ATOL_FACTOR = 1e-5  # x grad_total_norm


@dataclass
class ParityRow:
    """One compared quantity.

    Attributes:
        category (str): ``weights``, ``outputs``, ``losses``, ``matcher``,
            ``total`` or ``grads`` (adapters may add their own).
        name (str): What was compared (official name).
        max_abs (float): Largest absolute difference (NaN if not numeric).
        max_rel (float): Largest ``|diff| / |reference|`` over elements whose
            reference is not zero.
        budget (float): Largest ``|diff| / (atol + rtol * |ref|)``; <= 1 is
            within tolerance.
        ok (bool): Within tolerance.
        note (str): Extra information (e.g. why it failed).
    """
    category: str
    name: str
    max_abs: float
    max_rel: float
    budget: float
    ok: bool
    note: str = ''


def compare(category: str, name: str, ours: Any, ref: Any, atol: float,
            rtol: float) -> ParityRow:
    """Elementwise comparison of two tensors (or numbers).

    Non-finite values must be identical; finite ones within
    ``atol + rtol * |ref|``.
    """
    ours_t = torch.as_tensor(ours).detach().double().cpu()
    ref_t = torch.as_tensor(ref).detach().double().cpu()
    if ours_t.shape != ref_t.shape:
        return ParityRow(category, name, float('nan'), float('nan'),
                         float('inf'), False,
                         f'shape {tuple(ours_t.shape)} != '
                         f'{tuple(ref_t.shape)}')
    if ours_t.numel() == 0:
        return ParityRow(category, name, 0.0, 0.0, 0.0, True)
    diff = (ours_t - ref_t).abs()
    finite = torch.isfinite(ref_t) & torch.isfinite(ours_t)
    same_nonfinite = bool(((ours_t == ref_t) | finite).all())
    diff = torch.where(finite, diff, torch.zeros_like(diff))
    nonzero = ref_t.abs() > 0
    max_rel = float((diff[nonzero] / ref_t.abs()[nonzero]).max()) \
        if bool(nonzero.any()) else 0.0
    budget = float((diff / (atol + rtol * ref_t.abs().where(
        finite, torch.zeros_like(ref_t)))).max())
    ok = same_nonfinite and budget <= 1.0
    note = '' if same_nonfinite else 'non-finite values differ'
    return ParityRow(category, name, float(diff.max()), max_rel, budget, ok,
                     note)


def exact(category: str, name: str, ours: Any, ref: Any) -> ParityRow:
    """Equality check (``==``) of plain values."""
    ok = ours == ref
    return ParityRow(category, name, 0.0 if ok else float('nan'),
                     0.0 if ok else float('nan'), 0.0 if ok else float('inf'),
                     ok, '' if ok else f'not identical: {ours!r} != {ref!r}'
                     if not isinstance(ours, list) else 'not identical')


def missing(category: str, name: str, note: str) -> ParityRow:
    """A failed row for something that could not be compared."""
    return ParityRow(category, name, float('nan'), float('nan'),
                     float('inf'), False, note)


def assert_fixture_losses(losses: Mapping[str, Any],
                          last_indices: Sequence[Any],
                          fx: Mapping[str, Any]) -> None:
    """Assert (for tests) that every loss of ``fx['losses']`` and the
    matching of each decoder layer equal the fixture's: ``class_error``
    exactly, the losses within :data:`OUT_TOL`.

    Args:
        losses (Mapping[str, Tensor]): Our raw losses (loss mode).
        last_indices (Sequence): ``moment_loss.last_indices``: per decoder
            layer, per sample ``(query indices, target indices)``.
        fx (Mapping): The model fixture (``losses``, ``matcher_indices``).
    """
    atol, rtol = OUT_TOL
    for key, value in fx['losses'].items():
        if key.startswith('class_error'):
            assert float(losses[key]) == float(value), key
        else:
            torch.testing.assert_close(
                losses[key].detach(), value, atol=atol, rtol=rtol, msg=key)
    got = [[(p.tolist(), t.tolist()) for p, t in layer]
           for layer in last_indices]
    want = [[(p.tolist(), t.tolist()) for p, t in layer]
            for layer in fx['matcher_indices']]
    assert got == want
