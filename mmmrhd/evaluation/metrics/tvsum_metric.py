# Copyright (c) mmmrhd contributors. All rights reserved.
"""The TVSum top-5 mAP metric (UMT / QD-DETR)."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional

from mmmrhd.registry import METRICS
from ..functional.formatting import TABLE_DECIMALS
from ..functional.tvsum import TVSUM_TOP_K, evaluate_tvsum
from .submission_metric import BaseSubmissionMetric


@METRICS.register_module()
class TVSumMetric(BaseSubmissionMetric):
    """TVSum highlight detection: top-5 mAP per domain.

    Returns ``'<domain>-mAP'`` for each evaluated domain and ``'mAP'`` (their
    mean), as fractions rounded to 5 decimals like the official
    ``round(mAP, 5)``. With one model per domain (the official protocol) the
    val set holds one domain and ``mAP`` equals its value. Predictions need
    ``pred_saliency_scores``; the GT (``ann`` or ``ann_file``) needs
    ``label`` and ``domain``.

    Args:
        ann_file (str, optional): GT jsonl used instead of the ``ann``
            records. Only the domains of the predicted videos are evaluated,
            and all of their videos must be predicted.
        dump_file (str, optional): Write the submission jsonl.
        strict (bool): Raise when a video has fewer scores than labelled
            clips instead of warning. Defaults to False.
        top_k (int): Clips kept from the ranking. Defaults to 5.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Metric name prefix. Defaults to none.
        collect_dir (str, optional): Directory for CPU result collection.
        composite_scores (dict, optional): Weighted combinations of the
            output metrics added under their own keys (see
            :class:`BaseSubmissionMetric`). Defaults to none.
    """
    title = 'TVSum'
    table_decimals = TABLE_DECIMALS['tvsum']

    def __init__(self,
                 ann_file: Optional[str] = None,
                 dump_file: Optional[str] = None,
                 strict: bool = False,
                 top_k: int = TVSUM_TOP_K,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 composite_scores: Optional[Dict[str, dict]] = None) -> None:
        super().__init__(ann_file=ann_file,
                         dump_file=dump_file,
                         strict=strict,
                         collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir,
                         composite_scores=composite_scores)
        self.top_k = top_k

    def evaluate_submission(self, submission: List[Dict[str, Any]],
                            ground_truth: List[Dict[str, Any]],
                            gt_name: str) -> 'OrderedDict[str, Any]':
        """Run :func:`evaluate_tvsum` with this metric's options."""
        return evaluate_tvsum(submission,
                              ground_truth,
                              strict=self.strict,
                              top_k=self.top_k,
                              pred_name='predictions',
                              gt_name=gt_name)
