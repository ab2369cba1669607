# Copyright (c) mmmrhd contributors. All rights reserved.
"""Shared machinery of the metrics that score official-format submissions."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..functional.composite import check_composite_scores, weighted_score
from ..functional.formatting import TABLE_DECIMALS, brief_table
from ..functional.submission import (SubmissionError, dump_jsonl, load_jsonl,
                                     to_submission_record)


def _check_jsonl_path(path: Optional[str], arg: str) -> Optional[str]:
    if path is not None and not str(path).endswith('.jsonl'):
        raise ValueError(f'{arg} must be a .jsonl path, got {path!r}')
    return path


class BaseSubmissionMetric(BaseMetric):
    """Collect prediction dicts and score them as an official submission.

    ``process`` receives the model's prediction dicts (data contract:
    ``qid``, ``query``, ``vid``, ``duration``, ``pred_relevant_windows``,
    ``pred_saliency_scores``, ``ann``). ``compute_metrics`` turns them into
    submission records (minus ``duration`` and ``ann``), takes the ground
    truth from each prediction's ``ann`` record or from ``ann_file``, calls
    :meth:`evaluate_submission` and returns the flat ``brief`` metrics, plus
    any configured composite scores.

    Composite scores are weighted combinations of the brief metrics under
    their own key, which ``CheckpointHook(save_best=...)`` can name, e.g.
    VideoLights' best-model rule (``video_lights/train.py
    calculate_stop_score``; ``configs/videolights/videolights_qvh.py``)::

        val_evaluator = dict(
            type='QVHighlightsMetric',
            composite_scores={'stop_score': dict(weights={
                'MR-full-R1@0.5': 0.5, 'MR-full-mAP': 0.25})})
        default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', save_best='stop_score', rule='greater'))

    Args:
        ann_file (str, optional): GT jsonl. If given it replaces the ``ann``
            records and its qids must equal the predicted ones.
        dump_file (str, optional): Also write the submission jsonl here.
        strict (bool): Raise instead of warning on predictions scored by
            our own rules (see the metrics docs). Defaults to False.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for collecting results
            across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names
            (``'<prefix>/MR-full-mAP'``). Defaults to no prefix, so
            ``save_best='MR-full-mAP'`` works.
        collect_dir (str, optional): Temporary directory for collecting
            results across ranks on CPU.
        composite_scores (dict, optional): Output key -> ``dict(weights=
            dict(metric key -> weight), normalize=True)``: the score
            ``sum(metric * weight) / sum(weights)`` (no division with
            ``normalize=False``) is added to the output, unrounded. Every
            named metric must be in the output. Defaults to none.
    """
    # '' = no prefix (mmengine only prefixes a truthy prefix) without
    # mmengine's "prefix is not set" warning that None triggers.
    default_prefix: Optional[str] = ''
    #: Title of the logged table.
    title = ''
    #: Decimals of the values in the logged table (the official rounding;
    #: :data:`~mmmrhd.evaluation.functional.formatting.TABLE_DECIMALS`).
    table_decimals = TABLE_DECIMALS['percent']

    def __init__(self,
                 ann_file: Optional[str] = None,
                 dump_file: Optional[str] = None,
                 strict: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 composite_scores: Optional[Dict[str, dict]] = None) -> None:
        super().__init__(collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir)
        self.composite_scores = check_composite_scores(
            composite_scores or {}, type(self).__name__)
        self.ann_file = ann_file
        self.dump_file = _check_jsonl_path(dump_file, 'dump_file')
        self.strict = strict
        self._ground_truth_cache: Optional[List[Dict[str, Any]]] = None
        #: Nested results of the last :meth:`compute_metrics` call.
        self.last_results: Optional['OrderedDict[str, Any]'] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store the prediction dicts of one batch.

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict]): Prediction dicts of the model.
        """
        for pred in data_samples:
            if not isinstance(pred, dict):
                raise TypeError(
                    f'{type(self).__name__} expects prediction dicts, got '
                    f'{type(pred).__name__}')
            pred = dict(pred)
            pred.pop('duration', None)
            if self.ann_file is not None:
                pred.pop('ann', None)  # not needed: less to collect
            self.results.append(pred)

    def _ground_truth(self, results: List[dict]) -> List[Dict[str, Any]]:
        if self.ann_file is not None:
            if self._ground_truth_cache is None:
                self._ground_truth_cache = load_jsonl(self.ann_file)
            return self._ground_truth_cache
        ground_truth = []
        for pred in results:
            if 'ann' not in pred:
                raise SubmissionError(
                    f'prediction qid {pred.get("qid")!r} has no "ann" (the '
                    'raw annotation record); the dataset must pass it '
                    f'through, or give {type(self).__name__}(ann_file=...)')
            ground_truth.append(pred['ann'])
        return ground_truth

    def evaluate_submission(self, submission: List[Dict[str, Any]],
                            ground_truth: List[Dict[str, Any]],
                            gt_name: str) -> 'OrderedDict[str, Any]':
        """Score a submission; returns the nested official results."""
        raise NotImplementedError

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score the collected predictions.

        Args:
            results (list[dict]): Predictions of the whole dataset.

        Returns:
            dict: The flat ``brief`` metrics (official key names), then the
            composite scores.
        """
        submission = [to_submission_record(p) for p in results]
        if self.dump_file is not None:
            dump_jsonl(submission, self.dump_file)
            print_log(f'submission written to {self.dump_file}',
                      logger='current')
        ground_truth = self._ground_truth(results)
        gt_name = self.ann_file or 'the "ann" records'
        nested = self.evaluate_submission(submission, ground_truth, gt_name)
        self.last_results = nested
        metrics = dict(nested['brief'])
        for name, spec in self.composite_scores.items():
            if name in metrics:
                raise ValueError(f'{type(self).__name__}: composite score '
                                 f'{name!r} clashes with a metric of the '
                                 'same name')
            metrics[name] = weighted_score(
                nested['brief'], spec['weights'], spec['normalize'],
                f'{type(self).__name__}: composite score {name!r}')
        print_log(
            '\n' + brief_table(metrics, self.title, self.table_decimals),
            logger='current')
        return metrics
