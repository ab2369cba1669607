# Copyright (c) mmmrhd contributors. All rights reserved.
"""The Charades-STA metric (CG-DETR's ``standalone_eval`` variant)."""
from mmmrhd.registry import METRICS
from .qvhighlights_metric import QVHighlightsMetric


@METRICS.register_module()
class CharadesSTAMetric(QVHighlightsMetric):
    """Charades-STA moment retrieval metrics, as wjun0830/CGDETR reports them.

    The QVHighlights evaluation with R1 at 0.3:0.05:0.95 and ``MR-mIoU``
    (mean IoU of the first window); brief keys ``MR-full-R1@0.3``,
    ``MR-full-R1@0.5``, ``MR-full-R1@0.7``, ``MR-full-mIoU``, ``MR-full-mAP``
    ... ``pred_saliency_scores`` are ignored (Charades has no saliency GT;
    CG-DETR strips them before evaluating).

    Args:
        empty_bucket (str): Defaults to ``'zeros'``: the "long" bucket
            (windows > 30 s; none in Charades-STA) gets CG-DETR's zero
            section and ``MR-long-mAP`` 0.0, so the JSON equals CG-DETR's.
            ``'omit'`` leaves it out, ``'full'`` evaluates it on all queries
            (UniVTG).
        **others: As :class:`QVHighlightsMetric`.
    """
    variant = 'charades_sta'
    title = 'Charades-STA'

    def __init__(self, *args, empty_bucket: str = 'zeros', **kwargs) -> None:
        super().__init__(*args, empty_bucket=empty_bucket, **kwargs)
