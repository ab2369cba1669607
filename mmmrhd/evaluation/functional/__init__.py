# Copyright (c) mmmrhd contributors. All rights reserved.
"""Metric computations on numpy arrays and official-format records."""
from .formatting import assemble_results, brief_table, percent
from .highlight import (HL_CLIP_LEN, HL_LEVELS, NUM_ANNOTATORS,
                        HighlightRanking, gt_saliency_matrix, hl_hit_at_one,
                        hl_metrics, hl_metrics_flat)
from .moment_retrieval import (CHARADES_R1_THRESHOLDS, MAX_PRED_WINDOWS,
                               MR_MAP_THRESHOLDS, QVH_R1_THRESHOLDS,
                               hull_temporal_iou, mr_average_precision,
                               mr_average_precision_flat, mr_top1_iou,
                               mr_top1_iou_flat, temporal_iou,
                               voc_average_precision)
from .parsing import (ParsedSubmission, parse_submission,
                      parse_submission_files)
from .qvhighlights import (EMPTY_BUCKET_MODES, MR_BUCKETS, VARIANTS,
                           evaluate_parsed, evaluate_qvhighlights,
                           evaluate_qvhighlights_files)
from .reference import (reference_evaluate_qvhighlights, reference_hl_ap_one,
                        reference_hl_hit_one, reference_mr_average_precision,
                        reference_mr_top1_iou, reference_tvsum_top5_ap)
from .submission import (SUBMISSION_KEYS, SubmissionError, SubmissionWarning,
                         dump_jsonl, iter_jsonl, load_jsonl,
                         to_submission_record)
from .tvsum import (TVSUM_TOP_K, evaluate_tvsum, tvsum_domain_map,
                    tvsum_top5_ap)

__all__ = [
    'assemble_results', 'brief_table', 'percent', 'HL_CLIP_LEN', 'HL_LEVELS',
    'NUM_ANNOTATORS', 'HighlightRanking', 'gt_saliency_matrix',
    'hl_hit_at_one', 'hl_metrics', 'hl_metrics_flat', 'CHARADES_R1_THRESHOLDS',
    'MAX_PRED_WINDOWS', 'MR_MAP_THRESHOLDS', 'QVH_R1_THRESHOLDS',
    'hull_temporal_iou', 'mr_average_precision', 'mr_average_precision_flat',
    'mr_top1_iou', 'mr_top1_iou_flat', 'temporal_iou', 'voc_average_precision',
    'EMPTY_BUCKET_MODES', 'MR_BUCKETS', 'VARIANTS', 'ParsedSubmission',
    'evaluate_parsed', 'evaluate_qvhighlights', 'evaluate_qvhighlights_files',
    'parse_submission', 'parse_submission_files',
    'reference_evaluate_qvhighlights', 'reference_hl_ap_one',
    'reference_hl_hit_one', 'reference_mr_average_precision',
    'reference_mr_top1_iou', 'reference_tvsum_top5_ap', 'SUBMISSION_KEYS',
    'SubmissionError', 'SubmissionWarning', 'dump_jsonl', 'iter_jsonl',
    'load_jsonl',
    'to_submission_record', 'TVSUM_TOP_K', 'evaluate_tvsum',
    'tvsum_domain_map', 'tvsum_top5_ap'
]
