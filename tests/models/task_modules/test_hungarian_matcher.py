# Copyright (c) mmmrhd contributors. All rights reserved.
import itertools
import math
import os.path as osp

import pytest
import torch

from mmmrhd.models.task_modules import HungarianMatcher
from mmmrhd.registry import TASK_UTILS

FIXTURES = [
    'taskweave_hd2mr_epoch50', 'taskweave_hd2mr_epoch150',
    'taskweave_hd2mr_infer', 'taskweave_mr2hd_epoch150', 'qddetr',
    'trdetr', 'videolights', 'momentdetr'
]


def _brute_force_min_cost(cost: torch.Tensor) -> float:
    """Smallest total cost of an assignment of every column to a distinct
    row, by enumeration."""
    num_rows, num_cols = cost.shape
    best = math.inf
    for rows in itertools.permutations(range(num_rows), num_cols):
        best = min(best, sum(float(cost[r, c]) for c, r in enumerate(rows)))
    return best


def test_build_from_registry():
    matcher = TASK_UTILS.build(
        dict(type='HungarianMatcher', cost_class=1, cost_span=2,
             cost_giou=3))
    assert isinstance(matcher, HungarianMatcher)
    assert (matcher.cost_class, matcher.cost_span,
            matcher.cost_giou) == (1, 2, 3)


def test_cost_matrix_hand_computed():
    # One sample, 2 queries, 1 target [0.16, 0.26] (cx 0.21, w 0.1).
    pred_spans = torch.tensor([[[0.2, 0.1], [0.8, 0.1]]])
    pred_logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0]]])
    gt = [torch.tensor([[0.21, 0.1]])]
    cost = HungarianMatcher().cost_matrix(pred_logits, pred_spans, gt)
    assert cost.shape == (1, 2, 1)
    # Query 0: L1 0.01; [0.15, 0.25] vs [0.16, 0.26]: IoU = GIoU = 0.09/0.11;
    # p_fg = 0.5.
    expected0 = 10 * 0.01 - 0.09 / 0.11 - 4 * 0.5
    # Query 1: L1 0.59; [0.75, 0.85] vs [0.16, 0.26]: inter 0, union 0.2,
    # enclosing 0.69; p_fg = 3 / 4.
    expected1 = 10 * 0.59 - (0 - (0.69 - 0.2) / 0.69) - 4 * 0.75
    torch.testing.assert_close(
        cost[0, :, 0], torch.tensor([expected0, expected1]), atol=1e-5,
        rtol=0)


def test_known_assignment_and_order():
    # Targets listed in reverse order of the queries that fit them.
    pred_spans = torch.tensor([[[0.2, 0.1], [0.5, 0.1], [0.8, 0.1]]])
    pred_logits = torch.zeros(1, 3, 2)
    gt = [torch.tensor([[0.79, 0.1], [0.21, 0.1]])]
    (pred_idx, tgt_idx), = HungarianMatcher()(pred_logits, pred_spans, gt)
    assert pred_idx.dtype == torch.int64 and tgt_idx.dtype == torch.int64
    assert pred_idx.tolist() == [0, 2]  # ascending query indices
    assert tgt_idx.tolist() == [1, 0]


def test_optimal_not_greedy():
    # L1 cost only, widths equal: cost[q, t] = |cx_q - cx_t|, with
    # cx_q = (0.5, 0.05) and cx_t = (0.45, 0.95):
    #   [[0.05, 0.45],
    #    [0.40, 0.90]]
    # Taking the cheapest pair first (q0-t0) leaves q1-t1: 0.95 in total. The
    # optimum is q0-t1 + q1-t0 = 0.85.
    pred_spans = torch.tensor([[[0.5, 0.1], [0.05, 0.1]]])
    pred_logits = torch.zeros(1, 2, 2)
    gt = [torch.tensor([[0.45, 0.1], [0.95, 0.1]])]
    matcher = HungarianMatcher(cost_class=0, cost_span=1, cost_giou=0)
    (pred_idx, tgt_idx), = matcher(pred_logits, pred_spans, gt)
    assert pred_idx.tolist() == [0, 1]
    assert tgt_idx.tolist() == [1, 0]


def test_random_cases_are_optimal():
    gen = torch.Generator().manual_seed(0)
    matcher = HungarianMatcher()
    for n_targets in (1, 2, 3, 4):
        pred_spans = torch.rand(2, 5, 2, generator=gen) * 0.5 + 0.1
        pred_logits = torch.randn(2, 5, 2, generator=gen)
        gt = [
            torch.rand(n_targets, 2, generator=gen) * 0.5 + 0.1
            for _ in range(2)
        ]
        cost = matcher.cost_matrix(pred_logits, pred_spans, gt)
        indices = matcher(pred_logits, pred_spans, gt)
        for i, (rows, cols) in enumerate(indices):
            block = cost[i, :, i * n_targets:(i + 1) * n_targets]
            assert len(rows) == n_targets
            assert sorted(cols.tolist()) == list(range(n_targets))
            got = float(block[rows, cols].double().sum())
            assert got == pytest.approx(
                _brute_force_min_cost(block), abs=1e-5)


def test_zero_targets_and_more_targets_than_queries():
    pred_spans = torch.tensor([[[0.2, 0.1], [0.6, 0.2]]] * 3)
    pred_logits = torch.zeros(3, 2, 2)
    gt = [
        torch.tensor([[0.6, 0.2]]),
        torch.zeros(0, 2),
        torch.tensor([[0.2, 0.1], [0.5, 0.1], [0.6, 0.2]]),
    ]
    indices = HungarianMatcher()(pred_logits, pred_spans, gt)
    assert [r.tolist() for r, _ in indices] == [[1], [], [0, 1]]
    assert [c.tolist() for _, c in indices] == [[0], [], [0, 2]]
    assert indices[1][0].dtype == torch.int64
    # No target anywhere in the batch.
    no_gt = [torch.zeros(0, 2)] * 3
    empty = HungarianMatcher()(pred_logits, pred_spans, no_gt)
    assert all(len(r) == 0 and len(c) == 0 for r, c in empty)


def test_errors():
    with pytest.raises(ValueError, match="span_loss_type='ce'"):
        HungarianMatcher(span_loss_type='ce')
    with pytest.raises(ValueError, match='all cost weights are 0'):
        HungarianMatcher(cost_class=0, cost_span=0, cost_giou=0)
    matcher = HungarianMatcher()
    spans = torch.rand(2, 3, 2)
    logits = torch.zeros(2, 3, 2)
    gt = [torch.rand(1, 2), torch.rand(1, 2)]
    with pytest.raises(ValueError, match='2 target span sets for a batch of'):
        matcher(logits[:1], spans[:1], gt)
    with pytest.raises(ValueError, match='pred_logits must be'):
        matcher(logits[:, :2], spans, gt)
    with pytest.raises(ValueError, match=r'pred_spans must be \(B, Q, 2\)'):
        matcher(logits, spans[..., :1], gt)
    with pytest.raises(ValueError, match='sample 1 must be'):
        matcher(logits, spans, [torch.rand(1, 2), torch.rand(2)])
    bad = spans.clone()
    bad[1, 0, 0] = float('nan')
    with pytest.raises(ValueError, match='cost of sample 1 contains NaN'):
        matcher(logits, bad, gt)


@pytest.mark.parametrize('name', FIXTURES)
def test_official_indices(fixtures_dir, name):
    path = osp.join(fixtures_dir, f'{name}.pth')
    if not osp.isfile(path):
        pytest.skip(f'{path} not found')
    fx = torch.load(path, weights_only=True)
    outputs = fx['outputs']
    gt = [t['spans'] for t in fx['targets']['span_labels']]
    layers = [outputs] + list(outputs['aux_outputs'])
    assert len(layers) == len(fx['matcher_indices'])
    matcher = HungarianMatcher(cost_class=4, cost_span=10, cost_giou=1)
    for layer, expected in zip(layers, fx['matcher_indices']):
        got = matcher(layer['pred_logits'], layer['pred_spans'], gt)
        for (rows, cols), (exp_rows, exp_cols) in zip(got, expected):
            assert torch.equal(rows, exp_rows)
            assert torch.equal(cols, exp_cols)
