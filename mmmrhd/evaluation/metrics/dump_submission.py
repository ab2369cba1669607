# Copyright (c) mmmrhd contributors. All rights reserved.
"""Write predictions as an official submission jsonl (no scoring)."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmmrhd.registry import METRICS
from ..functional.submission import dump_jsonl, to_submission_record
from .submission_metric import _check_jsonl_path


@METRICS.register_module()
class DumpSubmission(BaseMetric):
    """Dump the predictions as a submission jsonl, like mmengine's
    ``DumpResults`` dumps a pickle.

    Each line is ``{qid, query, vid, pred_relevant_windows,
    pred_saliency_scores}`` (the prediction minus ``duration`` and ``ann``),
    e.g. for ``hl_test_submission.jsonl``. ``tools/test.py --dump PATH``
    appends ``dict(type='DumpSubmission', out_file=PATH)`` to the test
    evaluator. Works without ground truth (test splits).

    Args:
        out_file (str): Output ``.jsonl`` path (parents are created).
        collect_device (str): Device for collecting results across ranks.
        collect_dir (str, optional): Directory for CPU result collection.
    """
    default_prefix: Optional[str] = ''  # no prefix, no mmengine warning

    def __init__(self,
                 out_file: str,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device,
                         collect_dir=collect_dir)
        self.out_file = _check_jsonl_path(out_file, 'out_file')

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the submission record of every prediction."""
        self.results.extend(to_submission_record(p) for p in data_samples)

    def compute_metrics(self, results: List[Dict[str, Any]]) -> dict:
        """Write the records; returns no metric."""
        dump_jsonl(results, self.out_file)
        print_log(f'{len(results)} predictions written to {self.out_file}',
                  logger='current')
        return {}
