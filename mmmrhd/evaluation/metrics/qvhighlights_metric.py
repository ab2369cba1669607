# Copyright (c) mmmrhd contributors. All rights reserved.
"""The QVHighlights metric (moment_detr ``standalone_eval``)."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional

from mmmrhd.registry import METRICS
from ..functional.highlight import HL_CLIP_LEN
from ..functional.qvhighlights import check_options, evaluate_qvhighlights
from .submission_metric import BaseSubmissionMetric


@METRICS.register_module()
class QVHighlightsMetric(BaseSubmissionMetric):
    """QVHighlights moment retrieval + highlight detection metrics.

    Identical to jayleicn/moment_detr ``standalone_eval/eval.py`` on valid
    submissions. Returns the official ``brief`` keys, e.g.
    ``MR-full-mAP``, ``MR-full-mAP@0.5``, ``MR-full-R1@0.7``,
    ``MR-short-mAP``, ``HL-min-VeryGood-mAP``, ``HL-min-VeryGood-Hit1``.
    MR metrics need ``pred_relevant_windows``, HL metrics
    ``pred_saliency_scores``. The nested results of the last evaluation are
    kept in :attr:`last_results`.

    Example:
        >>> val_evaluator = dict(type='QVHighlightsMetric')
        >>> # with save_best:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='CheckpointHook', save_best='MR-full-mAP',
        ...     rule='greater'))

    Args:
        ann_file (str, optional): GT jsonl used instead of the ``ann``
            records (same qids required).
        dump_file (str, optional): Write the official submission jsonl.
        strict (bool): Raise on windows with end <= start and on empty
            window lists instead of warning. Defaults to False.
        empty_bucket (str): ``'omit'`` (default), ``'zeros'`` (CG-DETR) or
            ``'full'`` (UniVTG) for a length bucket without GT windows.
        clip_len (float): HL clip length in seconds. Defaults to 2.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Metric name prefix. Defaults to none.
        collect_dir (str, optional): Directory for CPU result collection.
        composite_scores (dict, optional): Weighted combinations of the
            output metrics added under their own keys (see
            :class:`BaseSubmissionMetric`). Defaults to none.
        variant (str, optional): Evaluation protocol (``VARIANTS`` of
            :mod:`mmmrhd.evaluation.functional.qvhighlights`):
            ``'qvhighlights'`` (moment_detr, the default of this class),
            ``'charades_sta'`` (CG-DETR, no highlight metrics) or
            ``'videolights'`` (dpaul06/VideoLights ``standalone_eval``: the
            QVHighlights metrics plus ``MR-full-R1@0.3`` and
            ``MR-full-mIoU``). None = the class default.
    """
    variant = 'qvhighlights'
    title = 'QVHighlights'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 dump_file: Optional[str] = None,
                 strict: bool = False,
                 empty_bucket: str = 'omit',
                 clip_len: float = HL_CLIP_LEN,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 composite_scores: Optional[Dict[str, dict]] = None,
                 variant: Optional[str] = None) -> None:
        super().__init__(ann_file=ann_file,
                         dump_file=dump_file,
                         strict=strict,
                         collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir,
                         composite_scores=composite_scores)
        if variant is not None:
            self.variant = variant
        check_options(self.variant, empty_bucket)
        self.empty_bucket = empty_bucket
        self.clip_len = clip_len

    def evaluate_submission(self, submission: List[Dict[str, Any]],
                            ground_truth: List[Dict[str, Any]],
                            gt_name: str) -> 'OrderedDict[str, Any]':
        """Run :func:`evaluate_qvhighlights` with this metric's options."""
        return evaluate_qvhighlights(submission,
                                     ground_truth,
                                     variant=self.variant,
                                     empty_bucket=self.empty_bucket,
                                     strict=self.strict,
                                     clip_len=self.clip_len,
                                     pred_name='predictions',
                                     gt_name=gt_name)
