# Copyright (c) mmmrhd contributors. All rights reserved.
"""Compare an mmmrhd model with an official reference fixture.

A fixture (``shared/fixtures/README.md``) holds the official model's weights
as a portable-init table, its inputs, outputs, losses, matcher indices, total
loss and gradients. :func:`check_fixture` rebuilds the official weights,
converts them with the repository converter, runs our model and criteria and
returns one :class:`ParityRow` per compared quantity, with the fixtures
README §11 tolerances:

* outputs, losses, total: ``atol 1e-5, rtol 1e-4``;
* ``class_error`` and matcher indices: exactly;
* gradients: ``atol 1e-5 * grad_total_norm, rtol 1e-3`` (a per-tensor rtol
  alone fails on gradients that are mathematically zero but numerically
  noise).

Nothing depends on the batch size, the padding pattern or the seed of the
fixture: shapes come from the fixture itself.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from .fixtures import (build_taskweave_from_fixture, fixture_data_samples,
                       fixture_inputs, import_taskweave_converter)
from .portable_init import (mismatching_keys, rebuild_official_state_dict,
                            state_dict_sha256)

OUT_TOL = (1e-5, 1e-4)  # fixtures README §11: atol, rtol
GRAD_RTOL = 1e-3


@dataclass
class ParityRow:
    """One compared quantity.

    Attributes:
        category (str): ``weights``, ``outputs``, ``losses``, ``matcher``,
            ``total`` or ``grads``.
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


def _compare(category: str, name: str, ours: Any, ref: Any, atol: float,
             rtol: float) -> ParityRow:
    """Elementwise comparison of two tensors (or numbers)."""
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


def _exact(category: str, name: str, ours: Any, ref: Any) -> ParityRow:
    ok = ours == ref
    return ParityRow(category, name, 0.0 if ok else float('nan'),
                     0.0 if ok else float('nan'), 0.0 if ok else float('inf'),
                     ok, '' if ok else 'not identical')


def _indices(layers) -> List[List[Tuple[list, list]]]:
    return [[(torch.as_tensor(p).tolist(), torch.as_tensor(t).tolist())
             for p, t in layer] for layer in layers]


def _output_rows(out: Mapping[str, Any],
                 ref: Mapping[str, Any]) -> List[ParityRow]:
    atol, rtol = OUT_TOL
    rows = []
    for key in ('pred_logits', 'pred_spans', 'saliency_scores',
                'saliency_scores_neg'):
        if key in ref:
            rows.append(_compare('outputs', key, out[key], ref[key], atol,
                                 rtol))
    ref_aux = ref.get('aux_outputs') or []
    if len(out.get('aux_outputs') or []) != len(ref_aux):
        rows.append(
            ParityRow('outputs', 'aux_outputs', float('nan'), float('nan'),
                      float('inf'), False,
                      f"{len(out.get('aux_outputs') or [])} aux layers, "
                      f'expected {len(ref_aux)}'))
        return rows
    for i, (ours, theirs) in enumerate(zip(out.get('aux_outputs') or [],
                                           ref_aux)):
        for key in ('pred_logits', 'pred_spans'):
            rows.append(
                _compare('outputs', f'aux_outputs[{i}].{key}', ours[key],
                         theirs[key], atol, rtol))
    return rows


def _loss_rows(losses: Mapping[str, Tensor], ref: Mapping[str, Tensor],
               prefix: str) -> List[ParityRow]:
    atol, rtol = OUT_TOL
    rows = []
    for key, value in ref.items():
        name = f'{prefix}{key}'
        if key not in losses:
            rows.append(
                ParityRow('losses', name, float('nan'), float('nan'),
                          float('inf'), False, 'missing in ours'))
        elif key.startswith('class_error'):
            rows.append(
                _exact('losses', name, float(losses[key]), float(value)))
        else:
            rows.append(
                _compare('losses', name, losses[key], value, atol, rtol))
    return rows


def check_taskweave_fixture(fx: Mapping[str, Any]) -> List[ParityRow]:
    """Full TaskWeave parity check against one official fixture.

    Steps (fixtures README §10): rebuild and hash the official weights,
    convert and strictly load them into ``TaskWeave(official_compat=True)``
    in eval mode with the fixture's feedback state; compare the forward
    outputs; our criteria on the *official* outputs vs the official losses
    and matcher indices; then the full chain (our forward -> our criteria ->
    our joint loss -> backward) vs the official losses, total and gradients.

    Args:
        fx (Mapping): A TaskWeave fixture (``torch.load(weights_only=True)``).

    Returns:
        list[ParityRow]: Every comparison made.
    """
    rows: List[ParityRow] = []
    official = rebuild_official_state_dict(fx['portable_init'],
                                           fx.get('portable_init_keep'))
    # README §3: torch.randn may differ by a few ulp across CPU builds, so a
    # hash mismatch is reported but the tolerances below decide.
    sha_ok = state_dict_sha256(official) == fx['meta']['state_dict_sha256']
    rows.append(
        ParityRow(
            'weights', 'state_dict_sha256', 0.0, 0.0, 0.0, True,
            'rebuilt weights hash equal' if sha_ok else
            'hash differs (randn ulps?) at: ' + ', '.join(
                list(mismatching_keys(official, fx['portable_init']))[:5])))
    model = build_taskweave_from_fixture(fx, official, check_sha=False)
    converter = import_taskweave_converter()
    inputs = fixture_inputs(fx)
    samples = fixture_data_samples(fx)

    with torch.no_grad():
        out = model(inputs, mode='tensor')
    rows += _output_rows(out, fx['outputs'])

    # Our criteria on the official outputs (isolates loss code from the
    # forward, README §10 step 6).
    with torch.no_grad():
        on_official = {}
        on_official.update(model.moment_loss(fx['outputs'], fx['targets']))
        indices = _indices(model.moment_loss.last_indices)
        on_official.update(model.saliency_loss(fx['outputs'], fx['targets']))
    rows += _loss_rows(on_official, fx['losses'], 'on_official_outputs/')
    rows.append(
        _exact('matcher', 'matcher_indices', indices,
               _indices(fx['matcher_indices'])))

    # Full chain with gradients.
    model.zero_grad(set_to_none=True)
    losses = model(inputs, samples, mode='loss')
    rows += _loss_rows(losses, fx['losses'], 'chain/')
    total, _ = model.parse_losses(losses)
    atol, rtol = OUT_TOL
    rows.append(
        _compare('total', 'total_loss', total, fx['total_loss'], atol, rtol))
    total.backward()
    rows += _grad_rows(model, fx, converter.convert_key)
    model.zero_grad(set_to_none=True)
    return rows


def _grad_rows(model: torch.nn.Module, fx: Mapping[str, Any],
               convert_key: Callable[[str], str]) -> List[ParityRow]:
    params = dict(model.named_parameters())
    gtn = float(fx['grad_total_norm'])
    atol = 1e-5 * gtn
    rows = []
    ours_norm = torch.sqrt(
        sum((p.grad.double()**2).sum() for p in model.parameters()
            if p.grad is not None))
    rows.append(
        _compare('grads', 'grad_total_norm', ours_norm, gtn, atol, GRAD_RTOL))
    for name, norm in fx['grad_norms'].items():
        grad = params[convert_key(name)].grad
        if norm is None:
            unused = grad is None or not bool(grad.any())
            rows.append(
                ParityRow('grads', f'norm:{name}', 0.0, 0.0, 0.0, unused,
                          'unused officially' +
                          ('' if unused else ': ours has a gradient')))
            continue
        if grad is None:
            rows.append(
                ParityRow('grads', f'norm:{name}', float('nan'),
                          float('nan'), float('inf'), False,
                          'no gradient in ours'))
            continue
        rows.append(
            _compare('grads', f'norm:{name}', grad.norm(), norm, atol,
                     GRAD_RTOL))
    for group in ('grads_full', 'grads_small'):
        for name, ref in fx[group].items():
            grad = params[convert_key(name)].grad
            if grad is None:
                grad = torch.zeros_like(ref)
            rows.append(_compare('grads', name, grad, ref, atol, GRAD_RTOL))
    return rows


#: Fixture ``meta['repo']`` -> checker. Add one per ported model.
CHECKERS: Dict[str, Callable[[Mapping[str, Any]], List[ParityRow]]] = {
    'EdenGabriel/TaskWeave': check_taskweave_fixture,
}


def check_fixture(fx: Mapping[str, Any]) -> List[ParityRow]:
    """Dispatch on the fixture's official repository.

    Raises:
        NotImplementedError: For a fixture of a model mmmrhd does not port
            yet (the message lists the supported repositories).
    """
    repo = fx.get('meta', {}).get('repo')
    checker: Optional[Callable] = CHECKERS.get(repo)
    if checker is None:
        raise NotImplementedError(
            f"no mmmrhd parity check for fixtures of {repo!r} "
            f"(model variant {fx.get('meta', {}).get('model_variant')!r}); "
            f'supported: {sorted(CHECKERS)}')
    return checker(fx)
