# Copyright (c) mmmrhd contributors. All rights reserved.
"""MRHDInferencer: sliding windows (stub detector), dataset parity, refusal
without weights, caching, output schema."""
import copy
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmmrhd.apis import MRHDInferencer
from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.evaluation.functional.submission import (SUBMISSION_KEYS,
                                                     load_jsonl,
                                                     parse_scores,
                                                     parse_windows)
from mmmrhd.models.detectors.base_mrhd_detector import BaseMRHDDetector
from mmmrhd.models.extractors import StreamSpec
from mmmrhd.models.layers.input_projection import InputProjection
from mmmrhd.registry import DATASETS, INFERENCERS, MODELS, build_part
from mmmrhd.testing.storage import MemoryBackend, register_memory_backend
from mmmrhd.utils.errors import CheckpointError, ConfigError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'taskweave', 'taskweave_demo.py')


@MODELS.register_module(force=True)
class StubWindowDetector(BaseMRHDDetector):
    """Two moments and a saliency curve that can be computed by hand.

    Moment 0 is the clip with the largest feature column 0 (score = that
    value), moment 1 the whole window (score 0.1); the saliency of a clip is
    its TEF start column, i.e. its position in the window ``i / L``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.video_proj = InputProjection(
            streams=[dict(name='feat', dim=2), dict(name='tef', dim=2)],
            out_dim=2)
        self.scale = nn.Parameter(torch.ones(()))

    def _forward(self, inputs, with_neg):
        video, mask = inputs['video_feat'], inputs['video_mask']
        batch = video.shape[0]
        lengths = mask.sum(1)
        strength = video[..., 0].masked_fill(mask == 0, -1.0)
        peak = strength.argmax(1).float()
        score = strength.amax(1).clamp(1e-4, 1 - 1e-4)
        event = torch.stack([(peak + 0.5) / lengths, 1.0 / lengths], -1)
        whole = torch.tensor([0.5, 1.0]).expand(batch, 2)
        probs = torch.stack([score, torch.full_like(score, 0.1)], 1)
        return dict(
            pred_logits=torch.stack([probs.log(), (1 - probs).log()], -1),
            pred_spans=torch.stack([event, whole], 1),
            saliency_scores=video[..., -2] * self.scale,
            video_mask=mask)


def stub_config(window=4):
    return Config(
        dict(
            model=dict(
                type='StubWindowDetector',
                post_processor=dict(
                    type='MomentPostProcessor', clip_len=2.0, max_ts=None)),
            test_dataloader=dict(
                collate_fn=dict(type='mrhd_collate'),
                dataset=dict(
                    type='MRHDDataset',
                    clip_len=2.0,
                    pipeline=[
                        dict(type='LoadVideoFeatures', max_len=window),
                        dict(type='AppendTEF'),
                        dict(type='LoadTextFeatures', max_len=32),
                        dict(type='PackMRHDInputs'),
                    ]))))


def save_weights(cfg, path, seed=0):
    torch.manual_seed(seed)
    model = build_part(MODELS, cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


@pytest.fixture
def stub(tmp_path):
    cfg = stub_config()
    return cfg, save_weights(cfg, str(tmp_path / 'stub.pth'))


def events(num_clips, **strength):
    """Rows ``[e_i, 1]``: after L2 normalisation column 0 is
    ``e / (sqrt(e^2 + 1) + 1e-5)`` (0 without an event)."""
    feat = np.zeros((num_clips, 2), np.float32)
    feat[:, 1] = 1
    for clip, e in strength.items():
        feat[int(clip[1:]), 0] = e
    return feat


TEXT = np.ones((3, 5), np.float32)


def test_sliding_windows_offsets_nms_and_saliency(stub):
    cfg, weights = stub
    inferencer = MRHDInferencer(cfg, weights, stride=3, max_windows=10)
    assert inferencer.window_size == 4  # LoadVideoFeatures.max_len
    feats = dict(feat=events(10, c2=3.0, c6=5.0))
    pred = inferencer(feats, [TEXT])['predictions'][0]
    # windows at clips 0, 3, 6 (= 10 - 4, end-aligned); the event of clip 6
    # is found by windows 3 (local clip 3) and 6 (local clip 0), both shifted
    # to [12, 14] s; NMS keeps one.
    assert pred['pred_relevant_windows'] == [
        [12.0, 14.0, 0.9806],  # 5 / (sqrt(26) + 1e-5)
        [4.0, 6.0, 0.9487],  # 3 / (sqrt(10) + 1e-5)
        [0.0, 8.0, 0.1],
        [6.0, 14.0, 0.1],
        [12.0, 20.0, 0.1],
    ]
    # saliency = position in the window, averaged over covering windows
    assert pred['pred_saliency_scores'] == [
        0.0, 0.25, 0.5, 0.375, 0.25, 0.5, 0.375, 0.25, 0.5, 0.75
    ]


def test_last_window_is_end_aligned(stub):
    cfg, weights = stub
    inferencer = MRHDInferencer(cfg, weights, stride=3)
    feats = dict(feat=events(11, c10=5.0))
    pred = inferencer(feats, TEXT, duration=21.3)['predictions'][0]
    # windows 0, 3, 6, 7; the last (clips 7-10, 21.3 - 14 = 7.3 s) finds the
    # event at its clip 3: [5.475, 7.3] -> clip grid [6, 8] -> +14 s ->
    # clamped to the video: [20, 21.3].
    assert pred['pred_relevant_windows'][0] == [20.0, 21.3, 0.9806]
    sal = pred['pred_saliency_scores']
    assert len(sal) == 11
    assert sal[6] == 0.375  # windows 3 (0.75) and 6 (0.0)
    assert sal[7] == 0.125  # windows 6 (0.25) and 7 (0.0)
    assert sal[10] == 0.75  # only the last window


def test_single_window_is_one_pass(stub):
    cfg, weights = stub
    inferencer = MRHDInferencer(cfg, weights)
    feats = dict(feat=events(4, c1=2.0))
    pred = inferencer(feats, TEXT, duration=7.0)['predictions'][0]
    model = inferencer.model
    batch = mrhd_collate([
        inferencer.pipeline(
            dict(qid=0, query='query 0', vid='video', duration=7.0,
                 clip_len=2.0, ann={}, num_clips=4,
                 video_feat=inferencer.load_video(feats).feat,
                 text_feat=inferencer.load_text(TEXT)))
    ])
    one_pass = model.test_step(batch)[0]
    for key in ('pred_relevant_windows', 'pred_saliency_scores'):
        assert pred[key] == one_pass[key]
    assert pred['pred_relevant_windows'][0] == [2.0, 4.0, 0.8944]


def test_taskweave_features_equal_dataset_path(tmp_path):
    """Features in memory -> inferencer == the same features as .npz files
    -> dataset -> test_step: identical tensors and predictions."""
    cfg = Config.fromfile(DEMO_CFG)
    weights = save_weights(cfg, str(tmp_path / 'tw.pth'))
    rng = np.random.default_rng(0)
    feats = dict(
        slowfast=rng.standard_normal((40, 64)).astype(np.float16),
        clip=rng.standard_normal((41, 32)).astype(np.float16))
    text = rng.standard_normal((9, 32)).astype(np.float32)
    for name in feats:
        (tmp_path / name).mkdir()
    (tmp_path / 'text').mkdir()
    for name, arr in feats.items():
        np.savez(str(tmp_path / name / 'vid0.npz'), features=arr)
    np.savez(str(tmp_path / 'text' / 'qid7.npz'), last_hidden_state=text,
             pooler_output=text[0])
    with open(str(tmp_path / 'ann.jsonl'), 'w') as f:
        f.write(json.dumps(dict(qid=7, query='a query', vid='vid0',
                                duration=81.0)) + '\n')
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    ds_cfg.update(type='QVHighlightsDataset', data_root=str(tmp_path),
                  ann_file='ann.jsonl', test_mode=True,
                  data_prefix=dict(video=['slowfast', 'clip'], text='text'))
    ds_cfg.pop('seed', None)
    dataset = build_part(DATASETS, ds_cfg)
    batch = mrhd_collate([dataset[0]])

    inferencer = MRHDInferencer(cfg, weights)
    seen = []
    forward = inferencer.forward
    inferencer.forward = lambda b: seen.append(b) or forward(b)
    out = inferencer(
        {k: v.astype(np.float32) for k, v in feats.items()},
        dict(query='a query', qid=7, text_feat=text), duration=81.0,
        vid='vid0')
    assert len(seen) == 1  # 40 clips <= max_v_l 75: one window
    for key, value in batch['inputs'].items():
        assert torch.equal(seen[0]['inputs'][key], value), key
    expected = inferencer.model.test_step(batch)[0]
    pred = out['predictions'][0]
    assert pred == {k: expected[k] for k in SUBMISSION_KEYS}


def test_feature_files_on_a_storage_backend(tmp_path):
    """Feature files given as URIs of another storage backend (the test
    dataset's backend_args) give the predictions of the local files."""
    register_memory_backend('mmmrhd_test_infer', prefixes=None)
    MemoryBackend.clear()
    cfg = Config.fromfile(DEMO_CFG)
    weights = save_weights(cfg, str(tmp_path / 'tw.pth'))
    rng = np.random.default_rng(1)
    local = dict(slowfast=str(tmp_path / 'sf.npz'),
                 clip=str(tmp_path / 'clip.npz'))
    np.savez(local['slowfast'],
             features=rng.standard_normal((30, 64)).astype(np.float32))
    np.savez(local['clip'],
             features=rng.standard_normal((30, 32)).astype(np.float32))
    text = str(tmp_path / 'qid3.npz')
    np.savez(text, last_hidden_state=rng.standard_normal((6, 32)))
    MemoryBackend.load_dir(str(tmp_path), 'mem://bucket')
    remote = {k: f'mem://bucket/{osp.basename(v)}' for k, v in local.items()}
    query = dict(query='q', qid=3)
    expected = MRHDInferencer(cfg, weights)(
        local, dict(query, text_feat=text), vid='v')['predictions']
    cfg.test_dataloader.dataset.backend_args = dict(
        backend='mmmrhd_test_infer')
    inferencer = MRHDInferencer(cfg, weights)
    assert inferencer.video_loader.backend_args == dict(
        backend='mmmrhd_test_infer')
    got = inferencer(remote, dict(query, text_feat='mem://bucket/qid3.npz'),
                     vid='v')['predictions']
    assert got == expected
    assert sorted(MemoryBackend.reads) == sorted(
        list(remote.values()) + ['mem://bucket/qid3.npz'])
    MemoryBackend.broken.add(remote['clip'])
    with pytest.raises(OSError, match=r'^cannot read video feature file '
                       r'mem://bucket/clip.npz from storage backend '
                       'MemoryBackend: ConnectionError'):
        inferencer(remote, dict(query, text_feat='mem://bucket/qid3.npz'))
    MemoryBackend.clear()


class CountingExtractor:
    """The extractor interface with call counters."""

    streams = [StreamSpec('feat', 2, 2.0, 30.0)]

    def __init__(self) -> None:
        self.video_calls = []
        self.text_calls = []

    def extract_video(self, path):
        self.video_calls.append(path)
        return dict(feat=events(6, c4=5.0))

    def extract_text(self, queries):
        self.text_calls.extend(queries)
        return [dict(last_hidden_state=np.full((len(q.split()), 5), 0.5,
                                               np.float32),
                     pooler_output=np.zeros(5, np.float32)) for q in queries]


def test_cache_one_extraction_for_many_queries(stub, tmp_path):
    cfg, weights = stub
    video = tmp_path / 'clip.mp4'
    video.write_bytes(b'not decoded by the counting extractor')
    extractor = CountingExtractor()
    inferencer = MRHDInferencer(cfg, weights, extractor=extractor)
    out = inferencer(str(video), ['a dog', 'a cat runs', 'a dog'],
                     duration=12.0)
    assert extractor.video_calls == [str(video)]
    assert extractor.text_calls == ['a dog', 'a cat runs']
    assert [p['qid'] for p in out['predictions']] == [0, 1, 2]
    assert [p['vid'] for p in out['predictions']] == ['clip'] * 3
    inferencer(str(video), 'a new query', duration=12.0)
    assert extractor.video_calls == [str(video)]
    video.write_bytes(b'a different video, same name')  # new size/mtime
    inferencer(str(video), 'a dog', duration=12.0)
    assert len(extractor.video_calls) == 2
    inferencer.clear_cache()
    inferencer(str(video), 'a dog', duration=12.0)
    assert len(extractor.video_calls) == 3


def test_output_schema_and_dump(stub, tmp_path):
    cfg, weights = stub
    inferencer = MRHDInferencer(cfg, weights, stride=2)
    path = str(tmp_path / 'feat.npz')
    np.savez(path, features=events(9, c5=4.0))
    out_file = str(tmp_path / 'out' / 'preds.jsonl')
    out = inferencer(path, [dict(query='q one', qid='a', text_feat=TEXT),
                            dict(query='q two', qid='b', text_feat=TEXT)],
                     pred_out_file=out_file)
    assert out['visualization'] is None
    records = out['predictions']
    assert load_jsonl(out_file) == records
    for record in records:
        assert tuple(record) == SUBMISSION_KEYS
        assert record['vid'] == 'feat'
        windows = parse_windows(record['pred_relevant_windows'], 'r',
                                'pred_relevant_windows', 3)
        assert windows.shape == (2, 3)
        assert (windows[:, 0] <= windows[:, 1]).all()
        assert (windows[:, :2] >= 0).all() and (windows[:, :2] <= 18).all()
        assert list(windows[:, 2]) == sorted(windows[:, 2], reverse=True)
        assert parse_scores(record['pred_saliency_scores'], 'r',
                            'pred_saliency_scores').shape == (9, )


def test_registered_and_built_from_config(stub):
    cfg, weights = stub
    inferencer = build_part(
        INFERENCERS, dict(type='MRHDInferencer', model=cfg, weights=weights,
                          stride=2))
    assert isinstance(inferencer, MRHDInferencer) and inferencer.stride == 2
    with pytest.raises(ValueError, match='unknown argument'):
        inferencer(dict(feat=events(3)), TEXT, batch=3)


def test_refuses_without_weights(stub, tmp_path):
    cfg, _ = stub
    with pytest.raises(CheckpointError, match='needs trained weights'):
        MRHDInferencer(cfg, None)
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        MRHDInferencer(cfg, str(tmp_path / 'missing.pth'))
    other = Config.fromfile(DEMO_CFG)
    wrong = save_weights(other, str(tmp_path / 'taskweave.pth'))
    with pytest.raises(CheckpointError, match='does not fit the model'):
        MRHDInferencer(cfg, wrong)


def test_input_errors(stub, tmp_path):
    cfg, weights = stub
    inferencer = MRHDInferencer(cfg, weights)
    video = tmp_path / 'v.mp4'
    video.write_bytes(b'x')
    with pytest.raises(ValueError, match='is a video file: pass extractor'):
        inferencer(str(video), TEXT)
    with pytest.raises(ValueError, match='is text: pass extractor'):
        inferencer(dict(feat=events(3)), 'a query')
    with pytest.raises(KeyError, match=r"missing \['feat'\]"):
        inferencer(dict(other=events(3)), TEXT)
    with pytest.raises(ValueError, match='has NaN/inf'):
        inferencer(dict(feat=np.full((3, 2), np.nan, np.float32)), TEXT)
    with pytest.raises(FileNotFoundError, match='video feature file not'):
        inferencer(str(tmp_path / 'gone.npz'), TEXT)
    with pytest.raises(ValueError, match='stride must be in'):
        MRHDInferencer(cfg, weights, stride=5)


def test_extractor_stream_layout_is_checked(stub):
    cfg, weights = stub

    class WrongWidth(CountingExtractor):
        streams = [StreamSpec('feat', 3, 2.0, 30.0)]

    with pytest.raises(ConfigError, match='extractor gives feat 3, model '
                       'expects feat 2'):
        MRHDInferencer(cfg, weights, extractor=WrongWidth())
