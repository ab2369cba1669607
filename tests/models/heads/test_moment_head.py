# Copyright (c) mmmrhd contributors. All rights reserved.
import torch

from mmmrhd.models.heads import MomentHead
from mmmrhd.models.layers import inverse_sigmoid


def test_spans_refine_input_references():
    torch.manual_seed(0)
    head = MomentHead(8)
    hs = torch.randn(2, 3, 4, 8)
    refs = torch.rand(2, 3, 4, 2)
    logits, spans = head(hs, refs)
    assert logits.shape == (2, 3, 4, 2) and spans.shape == (2, 3, 4, 2)
    torch.testing.assert_close(logits, head.class_embed(hs))
    torch.testing.assert_close(spans, (head.span_embed(hs) +
                                       inverse_sigmoid(refs)).sigmoid())


def test_zero_offset_returns_reference():
    head = MomentHead(8)
    with torch.no_grad():
        last = head.span_embed.layers[-1]
        last.weight.zero_()
        last.bias.zero_()
    refs = torch.tensor([[[[0.25, 0.5]]]])
    _, spans = head(torch.randn(1, 1, 1, 8), refs)
    torch.testing.assert_close(spans, refs)
