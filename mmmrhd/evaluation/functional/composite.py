# Copyright (c) mmmrhd contributors. All rights reserved.
"""Composite scores: one number from several brief metrics.

Some official training scripts keep the checkpoint with the best weighted
combination of metrics instead of one metric, e.g. dpaul06/VideoLights
``video_lights/train.py calculate_stop_score`` (L104-136). A composite score
is added to a metric's output under its own key, so a config can name it in
``CheckpointHook(save_best=...)`` like any other metric.
"""
import math
from typing import Any, Dict, Mapping

__all__ = ['check_composite_scores', 'weighted_score']


def check_composite_scores(
        specs: Mapping[str, Any], owner: str) -> Dict[str, Dict[str, Any]]:
    """Validate composite-score specifications.

    Args:
        specs (Mapping[str, dict]): Output key to ``dict(weights=dict(metric
            key -> weight), normalize=True)``.
        owner (str): Name of the metric for error messages.

    Returns:
        dict: Copies with ``normalize`` filled in.
    """
    if not isinstance(specs, Mapping):
        raise TypeError(f'{owner}: composite_scores must be a dict of '
                        'name -> dict(weights=...), got '
                        f'{type(specs).__name__}')
    checked = {}
    for name, spec in specs.items():
        where = f'{owner}: composite score {name!r}'
        if not isinstance(name, str) or not name:
            raise ValueError(f'{owner}: composite score names must be '
                             f'non-empty strings, got {name!r}')
        if not isinstance(spec, Mapping) or 'weights' not in spec:
            raise ValueError(f'{where} must be a dict with "weights", '
                             f'got {spec!r}')
        unknown = sorted(set(spec) - {'weights', 'normalize'})
        if unknown:
            raise ValueError(f'{where}: unknown keys {unknown}; expected '
                             '"weights" and optionally "normalize"')
        weights = spec['weights']
        if not isinstance(weights, Mapping) or not weights:
            raise ValueError(f'{where}: weights must be a non-empty dict of '
                             f'metric name -> number, got {weights!r}')
        for key, w in weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or \
                    not math.isfinite(w):
                raise ValueError(f'{where}: weight of {key!r} must be a '
                                 f'finite number, got {w!r}')
        normalize = bool(spec.get('normalize', True))
        if normalize and sum(weights.values()) == 0:
            raise ValueError(f'{where}: weights sum to 0 and cannot be '
                             'normalised')
        checked[name] = dict(weights=dict(weights), normalize=normalize)
    return checked


def weighted_score(metrics: Mapping[str, float],
                   weights: Mapping[str, float],
                   normalize: bool = True,
                   name: str = 'composite score') -> float:
    """Weighted sum of metrics, the weights optionally normalised to sum 1.

    ``sum_k metrics[k] * weights[k] / sum_k weights[k]`` with
    ``normalize=True`` (VideoLights ``calculate_stop_score``: weights divided
    by their total, then summed over the metrics). Unlike the official
    function, which silently counts a missing metric as 0, a metric that is
    not in ``metrics`` is an error.

    Args:
        metrics (Mapping[str, float]): Metric name to value.
        weights (Mapping[str, float]): Metric name to weight.
        normalize (bool): Divide by the sum of the weights. Defaults to True.
        name (str): Score name for the error message.

    Returns:
        float: The score (not rounded).
    """
    missing = [k for k in weights if k not in metrics]
    if missing:
        raise ValueError(f'{name}: metrics {missing} are not in the '
                       f'evaluation output (available: {sorted(metrics)})')
    total = sum(weights.values()) if normalize else 1.0
    return float(sum(float(metrics[k]) * (w / total)
                     for k, w in weights.items()))
