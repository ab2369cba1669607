# Copyright (c) mmmrhd contributors. All rights reserved.
"""QVHighlightsMetric under a real 2-process (gloo, CPU) DDP run."""
import json
import os
import socket

import torch.multiprocessing as mp
from random_cases import make_random_case


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    import warnings

    import torch.distributed as dist

    from mmmrhd.evaluation import QVHighlightsMetric

    warnings.simplefilter('ignore')
    dist.init_process_group('gloo',
                            init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank,
                            world_size=world_size)
    try:
        sub, gt = make_random_case(3, num_queries=41)
        gt_by_qid = {g['qid']: g for g in gt}
        preds = [
            dict(p,
                 duration=float(gt_by_qid[p['qid']]['duration']),
                 ann=gt_by_qid[p['qid']]) for p in sub
        ]
        # DistributedSampler order: rank r gets r, r + W, ... (padded by
        # repeating the first items; collect_results truncates to size).
        shard = (preds + preds[:1])[rank::world_size]
        metric = QVHighlightsMetric(
            dump_file=os.path.join(out_dir, 'dump.jsonl'))
        for i in range(0, len(shard), 8):
            metric.process(None, shard[i:i + 8])
        metrics = metric.evaluate(len(preds))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(metrics, f)
    finally:
        dist.destroy_process_group()


def test_metric_collects_across_ranks(tmp_path):
    from mmmrhd.evaluation import evaluate_qvhighlights
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2)
    sub, gt = make_random_case(3, num_queries=41)
    expected = dict(evaluate_qvhighlights(sub, gt)['brief'])
    for rank in range(2):
        with open(tmp_path / f'rank{rank}.json') as f:
            assert json.load(f) == expected  # broadcast to every rank
    lines = (tmp_path / 'dump.jsonl').read_text().splitlines()
    assert sorted(json.loads(x)['qid'] for x in lines) == sorted(r['qid']
                                                                 for r in sub)
