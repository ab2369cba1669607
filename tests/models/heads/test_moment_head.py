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


def test_without_references_spans_are_sigmoid_of_mlp():
    """Moment-DETR: no anchors, spans = sigmoid(span_embed(hs))."""
    head = MomentHead(8)
    with torch.no_grad():
        last = head.span_embed.layers[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0, 2.0]))
    _, spans = head(torch.randn(2, 1, 3, 8))
    expected = torch.tensor([0.5, 1 / (1 + torch.exp(torch.tensor(-2.0)))])
    torch.testing.assert_close(spans, expected.expand(2, 1, 3, 2))
