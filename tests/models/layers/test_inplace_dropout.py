# Copyright (c) mmmrhd contributors. All rights reserved.
"""The layers apply dropout in place where the tensor is fresh; in training
mode this must give exactly the outputs and gradients of out-of-place
dropout with the same random stream."""
import copy

import pytest
import torch

from mmmrhd.models.decoders import DABDecoderLayer
from mmmrhd.models.layers import (Dropout, InputProjection,
                                  PostNormEncoderLayer, T2VCrossAttentionLayer)


def _layers():
    torch.manual_seed(0)
    b, lv, lt, d = 2, 6, 4, 16
    v, t = torch.randn(b, lv, d), torch.randn(b, lt, d)
    pos = torch.randn(b, lv, d)
    mask = torch.ones(b, 1, 1, lv, dtype=torch.bool)
    q, qpos, sine = torch.randn(b, 3, d), torch.randn(b, 3,
                                                      d), torch.randn(b, 3, d)
    return [
        (PostNormEncoderLayer(d, 4, 32, 0.3), lambda m: m(v, pos, mask)),
        (T2VCrossAttentionLayer(d, 4, 32, 0.3),
         lambda m: m(v, t, pos, None,
                     torch.ones(b, 1, 1, lt).bool())),
        (DABDecoderLayer(d, 4, 32, 0.3,
                         True), lambda m: m(q, v, pos, mask, qpos, sine)),
        (InputProjection([dict(name='x', dim=d)], out_dim=8,
                         dropout=0.5), lambda m: m(v)),
    ]


@pytest.mark.parametrize('index', range(4))
def test_inplace_dropout_equals_out_of_place(index):
    layer, run = _layers()[index]
    layer.train()
    inplace = [
        m for m in layer.modules() if isinstance(m, Dropout) and m.inplace
    ]
    assert inplace  # the layer does use in-place dropout
    ref = copy.deepcopy(layer)
    for m in ref.modules():
        if isinstance(m, Dropout):
            m.inplace = False
    results = []
    for model in (layer, ref):
        torch.manual_seed(7)
        out = run(model)
        out.square().sum().backward()
        results.append((out.detach(), {
            n: p.grad.clone()
            for n, p in model.named_parameters() if p.grad is not None
        }))
    (out_a, grads_a), (out_b, grads_b) = results
    assert torch.equal(out_a, out_b)
    assert grads_a.keys() == grads_b.keys() and grads_a
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name
