# Copyright (c) mmmrhd contributors. All rights reserved.
"""Extraction -> .npz -> dataset loaders == the inferencer's in-memory
tensors, bitwise, on a generated video with random small backbones."""
import copy
import json
import logging
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmmrhd.apis import MRHDInferencer
from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.datasets.transforms.video_decoding import probe_video
from mmmrhd.evaluation.functional.submission import SUBMISSION_KEYS
from mmmrhd.registry import DATASETS, MODELS, build_part
from mmmrhd.testing.extractor import tiny_extractor_cfg
from mmmrhd.utils.feature_extraction import extract_queries, extract_videos

pytest.importorskip('av')
from mmmrhd.testing.video import make_test_video  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'taskweave', 'taskweave_demo.py')
QUERY = 'a pattern drifts to the right'


def spy(inferencer):
    """Record the collated batches the inferencer feeds the model."""
    seen = []
    forward = inferencer.forward
    inferencer.forward = lambda b: seen.append(b) or forward(b)
    return seen


def dataset_batch(cfg, root, max_len=None):
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    ds_cfg.pop('seed', None)
    ds_cfg.update(
        type='QVHighlightsDataset', data_root=root, ann_file='ann.jsonl',
        test_mode=True,
        data_prefix=dict(video=['slowfast_features', 'clip_features'],
                         text='clip_text_features'))
    if max_len is not None:
        ds_cfg.pipeline[0].max_len = max_len
    return mrhd_collate([build_part(DATASETS, ds_cfg)[0]])


def test_extraction_npz_dataset_equals_inferencer(tmp_path):
    torch.manual_seed(0)
    extractor = build_part(MODELS, tiny_extractor_cfg())
    # 7.5 s at 24 fps: SlowFast ceil(7.5 / 2) = 4 rows, CLIP 4 rows
    video = make_test_video(str(tmp_path / 'vid0.mp4'), fps=24,
                            num_frames=180, width=96, height=64)
    cfg = Config.fromfile(DEMO_CFG)
    cfg.model.video_proj.streams = [
        dict(name=s.name, dim=s.dim) for s in extractor.streams
    ] + [dict(name='tef', dim=2)]
    cfg.model.text_proj.streams = [dict(name='clip_text', dim=32)]
    torch.manual_seed(1)
    weights = str(tmp_path / 'detector.pth')
    torch.save(dict(state_dict=build_part(MODELS, cfg.model).state_dict()),
               weights)

    # 1. the inferencer extracts in memory (one pass: 4 clips <= 75)
    inferencer = MRHDInferencer(cfg, weights, extractor=extractor)
    seen = spy(inferencer)
    pred = inferencer(video, dict(query=QUERY, qid=0))['predictions'][0]
    assert len(seen) == 1 and len(pred['pred_saliency_scores']) == 4
    # 2. the extraction code of tools/misc/extract_features.py writes the
    #    released layout (<stream>_features/vid0.npz, float16)
    root = str(tmp_path / 'data')
    log = logging.getLogger('extraction-parity')
    stats = extract_videos(extractor, [('vid0', video)], root, False, log)
    assert stats['done'] == 1 and not stats['failed']
    extract_queries(extractor, [('0', QUERY)], root, False, log)
    for name, array in inferencer.load_video(video).raw.items():  # cached
        with np.load(osp.join(root, f'{name}_features', 'vid0.npz')) as f:
            assert f['features'].dtype == np.float16
            assert np.array_equal(f['features'].astype(np.float32), array)
    with np.load(osp.join(root, 'clip_text_features', 'qid0.npz')) as f:
        text = {k: f[k].astype(np.float32) for k in f.files}
    with open(osp.join(root, 'ann.jsonl'), 'w') as f:
        f.write(json.dumps(dict(qid=0, query=QUERY, vid='vid0',
                                duration=probe_video(video).duration)) + '\n')
    # 3. the dataset reads the files: identical tensors and prediction
    batch = dataset_batch(cfg, root)
    for key, value in batch['inputs'].items():
        got = seen[0]['inputs'][key]
        assert got.dtype == value.dtype and torch.equal(got, value), key
    expected = inferencer.model.test_step(batch)[0]
    assert pred == {k: expected[k] for k in SUBMISSION_KEYS}

    # windows of 2 clips: the first window equals the dataset's first
    # max_len=2 clips (windows at 0, 1, 2, batched in one forward pass)
    windowed = MRHDInferencer(cfg, weights, window_size=2, stride=1)
    seen = spy(windowed)
    raw = inferencer.load_video(video).raw
    windowed(raw, dict(query=QUERY, qid=0, text_feat=text),
             duration=probe_video(video).duration)
    assert seen[0]['inputs']['video_feat'].shape[:2] == (3, 2)
    batch = dataset_batch(cfg, root, max_len=2)
    for key, value in batch['inputs'].items():
        assert torch.equal(seen[0]['inputs'][key][:1], value), key
