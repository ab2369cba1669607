# Copyright (c) mmmrhd contributors. All rights reserved.
"""Metrics of moment retrieval and highlight detection.

``functional`` holds the numpy computations (identical to the official
evaluators), ``metrics`` the registered MMEngine metrics built on them.
"""
from .functional import (SubmissionError, SubmissionWarning,
                         evaluate_qvhighlights, evaluate_tvsum)
from .metrics import (BaseSubmissionMetric, CharadesSTAMetric, DumpSubmission,
                      QVHighlightsMetric, TVSumMetric)

__all__ = [
    'SubmissionError', 'SubmissionWarning', 'evaluate_qvhighlights',
    'evaluate_tvsum', 'BaseSubmissionMetric', 'CharadesSTAMetric',
    'DumpSubmission', 'QVHighlightsMetric', 'TVSumMetric'
]
