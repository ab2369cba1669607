# Copyright (c) mmmrhd contributors. All rights reserved.
"""Compare an mmmrhd model with an official reference fixture.

A fixture (``shared/fixtures/README.md``) holds the official model's weights
as a portable-init table, its inputs, outputs, losses, matcher indices, total
loss and gradients. :func:`check_fixture` picks the model's parity adapter
from ``fx['meta']`` (:mod:`mmmrhd.testing.adapters`), rebuilds the official
weights, converts them with the repository converter, runs our model and
criteria and returns one :class:`ParityRow` per compared quantity, with the
fixtures README §11 tolerances (:mod:`mmmrhd.testing.compare`).

Nothing depends on the batch size, the padding pattern or the seed of the
fixture: shapes come from the fixture itself.
"""
from typing import Any, List, Mapping, Tuple

import torch
from torch import Tensor

from .adapters import ParityAdapter, get_parity_adapter
from .compare import (GRAD_ATOL_FACTOR, GRAD_RTOL, OUT_TOL, ParityRow,
                      compare, exact, missing)
from .portable_init import (mismatching_keys, rebuild_official_state_dict,
                            state_dict_sha256)

# Backward-compatible private names (tests use them).
_compare = compare
_exact = exact


def _indices(layers) -> List[List[Tuple[list, list]]]:
    return [[(torch.as_tensor(p).tolist(), torch.as_tensor(t).tolist())
             for p, t in layer] for layer in layers]


def output_rows(out: Mapping[str, Any], ref: Mapping[str, Any],
                keys) -> List[ParityRow]:
    """Compare the output keys present in ``ref`` and every aux layer."""
    atol, rtol = OUT_TOL
    rows = []
    for key in keys:
        if key not in ref:
            continue
        if key not in out:
            rows.append(missing('outputs', key, 'missing in ours'))
            continue
        rows.append(compare('outputs', key, out[key], ref[key], atol, rtol))
    ref_aux = ref.get('aux_outputs') or []
    our_aux = out.get('aux_outputs') or []
    if len(our_aux) != len(ref_aux):
        rows.append(
            missing('outputs', 'aux_outputs',
                    f'{len(our_aux)} aux layers, expected {len(ref_aux)}'))
        return rows
    for i, (ours, theirs) in enumerate(zip(our_aux, ref_aux)):
        for key in ('pred_logits', 'pred_spans'):
            rows.append(
                compare('outputs', f'aux_outputs[{i}].{key}', ours[key],
                        theirs[key], atol, rtol))
    return rows


def loss_rows(losses: Mapping[str, Tensor], ref: Mapping[str, Tensor],
              prefix: str) -> List[ParityRow]:
    """Compare every official loss key (``class_error*`` exactly)."""
    atol, rtol = OUT_TOL
    rows = []
    for key, value in ref.items():
        name = f'{prefix}{key}'
        if key not in losses:
            rows.append(missing('losses', name, 'missing in ours'))
        elif key.startswith('class_error'):
            rows.append(exact('losses', name, float(losses[key]),
                              float(value)))
        else:
            rows.append(
                compare('losses', name, losses[key], value, atol, rtol))
    return rows


def grad_rows(model: torch.nn.Module, fx: Mapping[str, Any],
              adapter: ParityAdapter, converter) -> List[ParityRow]:
    """Gradients after backward vs ``grad_norms`` / ``grads_full`` /
    ``grads_small`` (atol ``1e-5 * grad_total_norm``, rtol 1e-3).
    Officially unused parameters (norm None) must have no or a zero
    gradient."""
    params = dict(model.named_parameters())
    gtn = float(fx['grad_total_norm'])
    atol = GRAD_ATOL_FACTOR * gtn
    rows = []
    ours_norm = torch.sqrt(
        sum((p.grad.double()**2).sum() for p in model.parameters()
            if p.grad is not None))
    rows.append(
        compare('grads', 'grad_total_norm', ours_norm, gtn, atol, GRAD_RTOL))

    def our_param(name):
        key = adapter.convert_key(converter, name)
        if key not in params:
            return None, key
        return params[key], key

    for name, norm in fx['grad_norms'].items():
        param, key = our_param(name)
        if param is None:
            rows.append(missing('grads', f'norm:{name}',
                                f'no parameter {key!r} in ours'))
            continue
        grad = param.grad
        if norm is None:
            unused = grad is None or not bool(grad.any())
            rows.append(
                ParityRow('grads', f'norm:{name}', 0.0, 0.0, 0.0, unused,
                          'unused officially' +
                          ('' if unused else ': ours has a gradient')))
            continue
        if grad is None:
            rows.append(missing('grads', f'norm:{name}',
                                'no gradient in ours'))
            continue
        rows.append(
            compare('grads', f'norm:{name}', grad.norm(), norm, atol,
                    GRAD_RTOL))
    for group in ('grads_full', 'grads_small'):
        for name, ref in fx[group].items():
            param, key = our_param(name)
            if param is None:
                rows.append(missing('grads', name,
                                    f'no parameter {key!r} in ours'))
                continue
            grad = param.grad if param.grad is not None else \
                torch.zeros_like(ref)
            rows.append(compare('grads', name, grad, ref, atol, GRAD_RTOL))
    return rows


def run_parity(adapter: ParityAdapter,
               fx: Mapping[str, Any]) -> List[ParityRow]:
    """Full parity check of one fixture through ``adapter``.

    Steps (fixtures README §10): rebuild and hash the official weights,
    convert and strictly load them in official-compat mode, check the
    parameter count; compare the forward outputs; our criteria on the
    *official* outputs vs the official losses and matcher indices; then the
    full chain (our forward -> our criteria -> our total -> backward) vs the
    official losses, total and gradients; then the adapter's extra rows.

    Args:
        adapter (ParityAdapter): The model's adapter.
        fx (Mapping): The fixture (``torch.load(weights_only=True)``).

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
    model = adapter.build_model(fx, official, check_sha=False)
    if 'n_params' in fx['meta']:
        rows.append(
            exact('weights', 'n_params',
                  sum(p.numel() for p in model.parameters()),
                  fx['meta']['n_params']))
    converter = adapter.converter()

    with torch.no_grad():
        out = adapter.forward(model, fx)
    rows += output_rows(out, fx['outputs'], adapter.output_keys)

    # Our criteria on the official outputs (isolates loss code from the
    # forward, README §10 step 6).
    with torch.no_grad():
        on_official, indices = adapter.losses_on_official_outputs(model, fx)
    rows += loss_rows(on_official, fx['losses'], 'on_official_outputs/')
    if 'matcher_indices' in fx:
        rows.append(
            exact('matcher', 'matcher_indices', _indices(indices),
                  _indices(fx['matcher_indices'])))

    # Full chain with gradients.
    model.zero_grad(set_to_none=True)
    losses, total, log_vars = adapter.chain(model, fx)
    rows += loss_rows(losses, fx['losses'], 'chain/')
    atol, rtol = OUT_TOL
    rows.append(
        compare('total', 'total_loss', total, fx['total_loss'], atol, rtol))
    total.backward()
    rows += grad_rows(model, fx, adapter, converter)
    rows += adapter.extra_rows(model, fx, out, log_vars)
    model.zero_grad(set_to_none=True)
    return rows


def check_fixture(fx: Mapping[str, Any]) -> List[ParityRow]:
    """Parity check of any supported fixture (adapter from ``fx['meta']``).

    Raises:
        NotImplementedError: For a fixture of a model mmmrhd does not port
            (the message lists the supported repositories).
    """
    return run_parity(get_parity_adapter(fx), fx)


def check_taskweave_fixture(fx: Mapping[str, Any]) -> List[ParityRow]:
    """:func:`check_fixture` for a TaskWeave fixture."""
    from .adapters import PARITY_ADAPTERS
    return run_parity(PARITY_ADAPTERS['taskweave'], fx)
