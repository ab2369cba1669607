# Copyright (c) mmmrhd contributors. All rights reserved.
"""Composite scores (weighted combinations of brief metrics)."""
import pytest

from mmmrhd.evaluation.functional.composite import (check_composite_scores,
                                                    weighted_score)


def test_weighted_score_hand_computed():
    metrics = {'a': 10.0, 'b': 40.0, 'c': 99.0}
    # (10 * 1 + 40 * 3) / (1 + 3) = 32.5; 'c' is not weighted.
    assert weighted_score(metrics, {'a': 1, 'b': 3}) == 32.5
    # Without normalisation: 10 * 1 + 40 * 3 = 130.
    assert weighted_score(metrics, {'a': 1, 'b': 3}, normalize=False) == 130
    # Negative weights are allowed (e.g. a penalty), the total must not be 0.
    assert weighted_score(metrics, {'a': 2, 'b': -1}) == pytest.approx(-20.0)


def test_weighted_score_missing_metric_is_an_error():
    with pytest.raises(ValueError,
                       match=r"my score: metrics \['MR-full-R1@0.3'\] are "
                       r"not in the evaluation output \(available: \['a'\]"):
        weighted_score({'a': 1.0}, {'a': 1, 'MR-full-R1@0.3': 1},
                       name='my score')


def test_check_composite_scores():
    specs = check_composite_scores({'s': dict(weights={'a': 1})}, 'M')
    assert specs == {'s': dict(weights={'a': 1}, normalize=True)}
    cases = [
        ([('s', 1)], TypeError, 'M: composite_scores must be a dict'),
        ({'': dict(weights={'a': 1})}, ValueError, 'non-empty strings'),
        ({'s': {'a': 1}}, ValueError, "'s' must be a dict with \"weights\""),
        ({'s': dict(weights={'a': 1}, scale=2)}, ValueError,
         r"unknown keys \['scale'\]"),
        ({'s': dict(weights={})}, ValueError, 'non-empty dict'),
        ({'s': dict(weights={'a': 'x'})}, ValueError,
         "weight of 'a' must be a finite number"),
        ({'s': dict(weights={'a': float('nan')})}, ValueError,
         'finite number'),
        ({'s': dict(weights={'a': True})}, ValueError, 'finite number'),
        ({'s': dict(weights={'a': 1, 'b': -1})}, ValueError,
         'weights sum to 0'),
    ]
    for spec, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            check_composite_scores(spec, 'M')
    # Sum 0 is fine without normalisation.
    check_composite_scores({'s': dict(weights={'a': 1, 'b': -1},
                                      normalize=False)}, 'M')
