# Copyright (c) mmmrhd contributors. All rights reserved.
"""Random QVHighlights-style submissions full of ties (test helper).

Imported by ``conftest.py`` (fixture ``random_case``) and by tests that need
the generator in a spawned process.
"""
from typing import Dict, List, Tuple

import numpy as np


def make_random_case(seed: int,
                     num_queries: int = 60,
                     degenerate: bool = False,
                     empty: bool = False,
                     charades: bool = False) -> Tuple[List[Dict], List[Dict]]:
    """A random GT file and submission full of ties.

    Windows lie on a 2-s grid (IoU ties, several GT windows of the same
    length), scores and saliency are coarsely quantised (score ties),
    window counts vary around 10, saliency lists are sometimes shorter or
    longer than the video.

    Args:
        seed (int): RNG seed.
        num_queries (int): Number of queries.
        degenerate (bool): Also emit reversed and zero-length windows.
        empty (bool): Give some queries an empty window list.
        charades (bool): Float durations / windows and no saliency.

    Returns:
        tuple[list[dict], list[dict]]: ``(submission, ground_truth)``.
    """
    rng = np.random.default_rng(seed)
    gt, sub = [], []
    for i in range(num_queries):
        qid = 1000 + i
        if charades:
            duration = float(np.round(rng.uniform(10, 60), 2))
            grid = np.round(np.sort(rng.uniform(0, duration, 2)), 2)
            if grid[1] - grid[0] < 0.5:
                grid[1] = grid[0] + 0.5
            windows = [[float(grid[0]), float(grid[1])]]
        else:
            num_clips = int(rng.integers(3, 40))
            duration = 2 * num_clips
            num_windows = int(rng.choice([1, 1, 2, 3, 5, 12]))
            windows = []
            for _ in range(num_windows):
                st = int(rng.integers(0, num_clips)) * 2
                length = int(rng.choice([2, 4, 4, 10, 20, 40]))
                windows.append([st, min(st + length, duration + 2)])
        record = dict(qid=qid,
                      query=f'q{i}',
                      duration=duration,
                      vid=f'v{i}',
                      relevant_windows=windows)
        if not charades:
            ids = sorted(
                set(
                    int(c) for c in rng.integers(
                        0, num_clips, int(rng.integers(1, num_clips + 1)))))
            record['relevant_clip_ids'] = ids
            record['saliency_scores'] = rng.integers(0, 5,
                                                     (len(ids), 3)).tolist()
        gt.append(record)
        num_pred = int(rng.choice([1, 3, 10, 10, 12]))
        if empty and i % 7 == 3:
            num_pred = 0
        preds = []
        for _ in range(num_pred):
            st = float(rng.integers(0, duration // 2 + 2) * 2)
            ed = st + float(rng.choice([2, 4, 10, 20, 40]))
            if charades:
                st = float(np.round(rng.uniform(0, duration), 2))
                ed = float(np.round(st + rng.uniform(0.5, 20), 2))
            if degenerate and rng.random() < 0.15:
                st, ed = (ed, st) if rng.random() < 0.7 else (st, st)
            preds.append([st, ed, float(rng.integers(0, 4)) / 4])
        pred = dict(qid=qid,
                    query=f'q{i}',
                    vid=f'v{i}',
                    pred_relevant_windows=preds)
        if not charades:
            n = num_clips + int(rng.integers(-2, 3))
            pred['pred_saliency_scores'] = (rng.integers(-3, 4, max(n, 1)) /
                                            2).tolist()
        sub.append(pred)
    order = rng.permutation(num_queries)
    return [sub[i] for i in order], gt
