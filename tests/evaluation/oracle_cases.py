# Copyright (c) mmmrhd contributors. All rights reserved.
"""Generated QVHighlights submissions of many shapes (test helper).

Used by the optional official-evaluator oracle test and by the regression
tests that hard-code the official numbers of one generated case. Only
``random.Random`` (whose ``random()`` stream Python keeps stable across
versions) is used, so a case is the same bytes everywhere.
"""
import random
import struct
from typing import Dict, List, Tuple

#: name -> options of :func:`make_case`; every shape the official evaluator
#: can score (the crash shapes are in :data:`CRASH_CASES`).
CASES = {
    # The case: JSON integers everywhere, many score ties, reversed
    # windows (some exactly as long as a GT window).
    'int_ties_reversed': dict(integers=True, reversed_rate=0.15),
    'float_ties_float16_saliency': dict(score_levels=4, float16=True),
    'zero_length_windows': dict(zero_rate=0.2, zero_gt=True, integers=True),
    'few_and_many_windows': dict(min_windows=1, max_windows=25,
                                 shuffle=True),
    'saliency_short_long_negative': dict(saliency_jitter=4, negative=True),
    'mr_only': dict(with_hl=False, integers=True, reversed_rate=0.1),
    'hl_only': dict(with_mr=False, float16=True),
    'many_gt_windows_tied': dict(max_gt=25, equal_gt=True, integers=True,
                                 reversed_rate=0.1),
    'negative_and_out_of_range': dict(out_of_range=True, reversed_rate=0.1),
    'string_qids_dup_clip_ids': dict(str_qids=True, dup_clip_ids=True,
                                     integers=True, reversed_rate=0.1),
    'large_model_like': dict(num_queries=1600, model_like=True,
                             float16=True),
}
#: Shapes the official evaluator crashes on: name -> (options, exception).
CRASH_CASES = {
    'empty_prediction_lists': (dict(empty_rate=0.1), 'IndexError'),
    'missing_qid': (dict(drop_last=True), 'AssertionError'),
    # No GT window longer than 30 s: the official 'long' bucket is empty.
    'empty_long_bucket': (dict(max_length=30), 'TypeError'),
}


def _f16(x: float) -> float:
    """Round to the nearest float16 (like a model's half-precision output)."""
    return struct.unpack('e', struct.pack('e', x))[0]


def make_case(seed: int,
              num_queries: int = 200,
              integers: bool = False,
              score_levels: int = 4,
              reversed_rate: float = 0.,
              zero_rate: float = 0.,
              zero_gt: bool = False,
              min_windows: int = 3,
              max_windows: int = 12,
              shuffle: bool = False,
              with_mr: bool = True,
              with_hl: bool = True,
              float16: bool = False,
              saliency_jitter: int = 1,
              negative: bool = False,
              max_gt: int = 5,
              max_length: int = 150,
              equal_gt: bool = False,
              out_of_range: bool = False,
              str_qids: bool = False,
              dup_clip_ids: bool = False,
              model_like: bool = False,
              empty_rate: float = 0.,
              drop_last: bool = False) -> Tuple[List[Dict], List[Dict]]:
    """A generated GT file and submission.

    Windows lie on a 2-s grid (IoU ties; GT windows of equal length),
    scores are quantised to ``score_levels`` values (score ties) unless
    ``model_like``.

    Returns:
        tuple[list[dict], list[dict]]: ``(submission, ground_truth)``.
    """
    rng = random.Random(seed)

    def randint(lo: int, hi: int) -> int:  # inclusive, stable stream
        return lo + int(rng.random() * (hi - lo + 1))

    def num(x: float):
        return int(x) if integers and float(x).is_integer() else float(x)

    gt, sub = [], []
    for i in range(num_queries):
        qid = f'q{i}' if str_qids else 1000 + i
        num_clips = randint(5, 75)
        duration = 2 * num_clips
        num_gt = randint(1, max_gt) if rng.random() < 0.5 else 1
        if equal_gt and rng.random() < 0.5:
            num_gt = randint(8, max_gt)
        length = 2 * rng.choice([1, 1, 2, 3, 5, 8, 15, 20, 40])
        windows = []
        for _ in range(num_gt):
            if not equal_gt:
                length = 2 * rng.choice([1, 1, 2, 3, 5, 8, 15, 20, 40])
            st = 2 * randint(0, num_clips - 1)
            windows.append([st, min(st + length, duration, st + max_length)])
            if zero_gt and rng.random() < 0.1:
                windows[-1] = [st, st]
            if windows[-1][1] == windows[-1][0] and not zero_gt:
                windows[-1] = [st - 2, st] if st else [0, 2]
        record = dict(qid=qid,
                      query=f'query {i}',
                      duration=duration,
                      vid=f'vid{i}_0.0_{duration}.0',
                      relevant_windows=windows)
        ids = sorted(rng.sample(range(num_clips), randint(1, num_clips)))
        if dup_clip_ids and len(ids) > 1 and rng.random() < 0.3:
            ids.append(ids[0])
        record['relevant_clip_ids'] = ids
        record['saliency_scores'] = [[randint(0, 4) for _ in range(3)]
                                     for _ in ids]
        gt.append(record)
        pred = dict(qid=qid, query=record['query'], vid=record['vid'])
        if with_mr:
            count = randint(min_windows, max_windows)
            if rng.random() < empty_rate:
                count = 0
            preds = []
            for _ in range(count):
                if rng.random() < 0.5:  # near a GT window
                    st, ed = rng.choice(windows)
                    st += 2 * randint(-2, 1)
                    ed += 2 * randint(-1, 2)
                else:
                    st = 2 * randint(0, num_clips)
                    ed = st + 2 * rng.choice([1, 2, 3, 5, 10, 20])
                if out_of_range and rng.random() < 0.2:
                    st, ed = st - 2 * randint(1, 10), ed + 2 * randint(0, 80)
                if rng.random() < reversed_rate:
                    st, ed = ed, st
                if rng.random() < zero_rate:
                    ed = st
                if model_like:
                    score = round(rng.random(), 4)
                    st, ed = st + round(rng.random(), 2), ed
                else:
                    score = randint(0, score_levels - 1)
                    score = score if integers else score / score_levels
                preds.append([num(st), num(ed), num(score)])
            if shuffle:
                rng.shuffle(preds)
            elif model_like:
                preds.sort(key=lambda w: -w[2])
            pred['pred_relevant_windows'] = preds
        if with_hl:
            n = max(1, num_clips + randint(-saliency_jitter, saliency_jitter))
            if model_like or float16:
                scores = [_f16(rng.random() * 2 - 1) for _ in range(n)]
            else:
                scores = [randint(-3, 3) for _ in range(n)]
                if not integers:
                    scores = [s / 2 for s in scores]
            if negative and rng.random() < 0.5:
                scores = [-abs(s) - 1 for s in scores]
            pred['pred_saliency_scores'] = scores
        sub.append(pred)
    rng.shuffle(sub)
    if drop_last:
        sub = sub[:-1]
    return sub, gt


def make_integer_submission(ground_truth: List[Dict],
                            seed: int = 0) -> List[Dict]:
    """An all-integer, tie-heavy submission for real GT records.

    10 windows per query (half near a GT window), integer scores 0..3 (many
    ties), 10 % reversed windows, integer saliency -2..2 per clip: the
    shape of the issue's report (QVHighlights val: official
    ``MR-full-mAP@0.5`` differed from ours before the NaN-IoU rule).
    """
    rng = random.Random(seed)

    def randint(lo: int, hi: int) -> int:
        return lo + int(rng.random() * (hi - lo + 1))

    sub = []
    for g in ground_truth:
        duration = int(g['duration'])
        windows = []
        for _ in range(10):
            if rng.random() < 0.5:
                st, ed = rng.choice(g['relevant_windows'])
                st, ed = int(st) + 2 * randint(-2, 1), int(ed) + 2 * randint(
                    -1, 2)
            else:
                st = randint(0, duration)
                ed = st + rng.choice([2, 4, 6, 10, 20, 40])
            if rng.random() < 0.1:
                st, ed = ed, st
            windows.append([st, ed, randint(0, 3)])
        sub.append(
            dict(qid=g['qid'],
                 query=g.get('query', ''),
                 vid=g.get('vid', ''),
                 pred_relevant_windows=windows,
                 pred_saliency_scores=[
                     randint(-2, 2) for _ in range(int(duration / 2))
                 ]))
    return sub
