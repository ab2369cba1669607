# Copyright (c) mmmrhd contributors. All rights reserved.
"""Training-free baseline (and random predictor) on the demo data.

The demo data's ``clip`` video stream shares its concept directions with the
text features (as CLIP's embedding spaces do), so the cosine similarity
between a query's mean token and each clip already says which clips the
query is about. Saliency = that similarity; windows = the runs of clips whose
similarity z-score (within the video) exceeds one of a few thresholds,
scored by the z-statistic of their mean. With ``--random``, saliency and
windows are drawn at random instead, as an untrained model would. Both go
through the official :class:`MomentPostProcessor` (clamped to each video's
duration) and are written as an official submission jsonl::

    python tools/misc/demo_baseline.py --data-root data/demo --split val \\
        --out work_dirs/demo_baseline/val_preds.jsonl
    python tools/eval_preds.py work_dirs/demo_baseline/val_preds.jsonl \\
        data/demo/highlight_val_release.jsonl
"""
import argparse
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from mmmrhd.datasets.demo import CLIP_LEN
from mmmrhd.datasets.demo_dataset import ensure_demo_data
from mmmrhd.evaluation.functional import dump_jsonl, to_submission_record
from mmmrhd.models.post_processors import MomentPostProcessor

Z_THRESHOLDS = (0.5, 1.0, 1.5, 2.0)  # multi-scale proposals (z-scores)
MAX_WINDOWS = 10  # the official evaluator reads the first 10 windows


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation with the official eps (basic_utils.py)."""
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-5)


def cosine_saliency(clip_feats: np.ndarray,
                    text_tokens: np.ndarray) -> np.ndarray:
    """Cosine similarity of every clip to the query's mean token.

    Args:
        clip_feats (np.ndarray): ``clip`` stream features ``(L, D)``.
        text_tokens (np.ndarray): ``last_hidden_state`` ``(T, D)``.

    Returns:
        np.ndarray: ``(L,)`` similarities in ``[-1, 1]``.
    """
    query = _l2_normalize(_l2_normalize(text_tokens).mean(0))
    return _l2_normalize(clip_feats.astype(np.float32)) @ query


def propose_windows(saliency: np.ndarray,
                    max_windows: int = MAX_WINDOWS
                    ) -> List[Tuple[int, int, float]]:
    """Runs of high-saliency clips at several z-score thresholds.

    The saliency is smoothed over 3 clips and standardised within the video
    (z-scores); every maximal run of clips above one of ``Z_THRESHOLDS`` is
    a candidate, scored by ``mean(z) * sqrt(length)`` (the z-statistic of
    the run's mean), which prefers long confident runs to single peaks.

    Args:
        saliency (np.ndarray): ``(L,)`` clip scores.
        max_windows (int): Keep the best ``max_windows`` runs.

    Returns:
        list[tuple]: ``(start_clip, end_clip_exclusive, score)`` sorted by
        score, descending. Never empty.
    """
    smooth = np.convolve(
        np.pad(saliency, 1, mode='edge'), np.ones(3) / 3, mode='valid')
    z = (smooth - smooth.mean()) / (smooth.std() + 1e-6)
    runs = {}
    for thr in Z_THRESHOLDS:
        above = np.concatenate([[False], z > thr, [False]])
        edges = np.flatnonzero(above[1:] != above[:-1])
        for st, ed in zip(edges[::2], edges[1::2]):
            runs[(int(st), int(ed))] = float(z[st:ed].mean() *
                                             np.sqrt(ed - st))
    if not runs:  # a constant saliency: the whole video
        runs[(0, len(z))] = 0.0
    ranked = sorted(runs.items(), key=lambda kv: kv[1], reverse=True)
    return [(st, ed, score) for (st, ed), score in ranked[:max_windows]]


def clips_to_spans(bounds: np.ndarray, duration: float) -> np.ndarray:
    """Clip bounds ``(N, 2)`` ``[start, end)`` -> normalised (center, width).

    The layout a DETR head predicts, normalised by ``duration`` because the
    post-processor de-normalises by it.
    """
    bounds = np.asarray(bounds, dtype=np.float64)
    cxw = np.stack([bounds.mean(1), bounds[:, 1] - bounds[:, 0]], axis=1)
    return cxw * CLIP_LEN / duration


def _load_npz(data_root: str, folder: str, name: str, key: str) -> np.ndarray:
    with np.load(osp.join(data_root, folder, name)) as npz:
        return npz[key]


def load_split(data_root: str, split: str) -> List[Dict[str, Any]]:
    """Records of ``highlight_<split>_release.jsonl``."""
    path = osp.join(data_root, f'highlight_{split}_release.jsonl')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: generate the demo data '
                                'with tools/misc/generate_demo_data.py')
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def predict(record: Dict[str, Any],
            data_root: str,
            post_processor: MomentPostProcessor,
            rng: Optional[np.random.Generator] = None) -> Dict[str, Any]:
    """Prediction dict (data contract) of one query.

    Args:
        record (dict): Annotation record.
        data_root (str): Demo data root.
        post_processor (MomentPostProcessor): Formats the prediction.
        rng (np.random.Generator, optional): If given, predict at random.

    Returns:
        dict: ``qid, query, vid, duration, pred_relevant_windows,
        pred_saliency_scores, ann``.
    """
    clip_feats = _load_npz(data_root, 'clip_features', f'{record["vid"]}.npz',
                           'features')
    duration = float(record['duration'])
    if rng is None:
        text = _load_npz(data_root, 'clip_text_features',
                         f'qid{record["qid"]}.npz', 'last_hidden_state')
        saliency = cosine_saliency(clip_feats, text)
        rows = np.array(propose_windows(saliency), dtype=np.float64)
        spans = clips_to_spans(rows[:, :2], duration)
        # only the order matters; /4 keeps typical z-statistics (0-15)
        # distinguishable at the 4 decimals of the submission
        scores = 1 / (1 + np.exp(-rows[:, 2] / 4))
    else:
        saliency = rng.random(len(clip_feats))
        # windows between two distinct random clip boundaries
        bounds = np.sort(
            np.stack([
                rng.choice(len(clip_feats) + 1, size=2, replace=False)
                for _ in range(MAX_WINDOWS)
            ]),
            axis=1)
        spans = clips_to_spans(bounds, duration)
        scores = rng.random(MAX_WINDOWS)
    sample = dict(
        qid=record['qid'],
        query=record['query'],
        vid=record['vid'],
        duration=record['duration'],
        ann=record)
    return post_processor(
        torch.as_tensor(spans, dtype=torch.float32)[None],
        torch.as_tensor(scores, dtype=torch.float32)[None],
        torch.as_tensor(saliency, dtype=torch.float32)[None],
        torch.ones(1, len(saliency)), [sample])[0]


def run_baseline(data_root: str,
                 split: str = 'val',
                 random_seed: Optional[int] = None) -> List[Dict[str, Any]]:
    """Predictions for every query of a split.

    Args:
        data_root (str): Demo data root.
        split (str): 'train' or 'val'.
        random_seed (int, optional): Predict at random with this seed
            instead of running the cosine baseline.

    Returns:
        list[dict]: Prediction dicts of the data contract.
    """
    # windows clamped to each video (not to the QVHighlights 150 s)
    post_processor = MomentPostProcessor(clip_len=CLIP_LEN, max_ts=None)
    rng = None if random_seed is None else np.random.default_rng(random_seed)
    return [
        predict(record, data_root, post_processor, rng)
        for record in load_split(data_root, split)
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Training-free baseline on the mmmrhd demo data')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument('--split', default='val', choices=['train', 'val'])
    parser.add_argument(
        '--out', default='work_dirs/demo_baseline/val_preds.jsonl')
    parser.add_argument(
        '--random',
        action='store_true',
        help='predict at random (what an untrained model gets)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of --random')
    parser.add_argument(
        '--generate',
        action='store_true',
        help='generate the demo data (seed 0) if --data-root has none')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.generate:
        ensure_demo_data(args.data_root)
    preds = run_baseline(args.data_root, args.split,
                         args.seed if args.random else None)
    dump_jsonl([to_submission_record(p) for p in preds], args.out)
    gt = osp.join(args.data_root, f'highlight_{args.split}_release.jsonl')
    print(f'wrote {len(preds)} predictions to {args.out}\n'
          f'evaluate with: python tools/eval_preds.py {args.out} {gt}')


if __name__ == '__main__':
    main()
