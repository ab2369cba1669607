# Copyright (c) mmmrhd contributors. All rights reserved.
"""Registered :class:`mmengine.evaluator.BaseMetric` implementations."""
from .charades_sta_metric import CharadesSTAMetric
from .dump_submission import DumpSubmission
from .qvhighlights_metric import QVHighlightsMetric
from .submission_metric import BaseSubmissionMetric
from .tvsum_metric import TVSumMetric

__all__ = [
    'BaseSubmissionMetric', 'QVHighlightsMetric', 'CharadesSTAMetric',
    'TVSumMetric', 'DumpSubmission'
]
