# Copyright (c) mmmrhd contributors. All rights reserved.
import json
import os.path as osp
import random

import pytest
import torch

from mmmrhd.models.post_processors import (MomentPostProcessor,
                                           batched_temporal_nms,
                                           pairwise_window_iou)
from mmmrhd.registry import TASK_UTILS

SUBMISSION_KEYS = ('qid', 'query', 'vid', 'pred_relevant_windows',
                   'pred_saliency_scores')


def _samples(*durations):
    return [
        dict(qid=i, query=f'q{i}', vid=f'v{i}', duration=d, ann={'qid': i})
        for i, d in enumerate(durations)
    ]


def _cxw(rows):
    """Normalised (center, width) spans (1, Q, 2) from (start, end) rows."""
    t = torch.tensor(rows, dtype=torch.float32)
    return torch.stack([(t[:, 0] + t[:, 1]) / 2, t[:, 1] - t[:, 0]], -1)[None]


# --------------------------------------------------------------- parity
@pytest.fixture(scope='module')
def official(fixtures_dir):
    fx = torch.load(
        osp.join(fixtures_dir, 'taskweave_hd2mr_infer.pth'),
        weights_only=True)
    out = fx['outputs']
    samples = [dict(meta, ann=meta) for meta in fx['batch_meta']]
    return dict(
        spans=out['pred_spans'],
        scores=torch.softmax(out['pred_logits'], -1)[..., 0],
        saliency=out['saliency_scores'],
        mask=fx['inputs']['src_vid_mask'],
        samples=samples)


def _read_lines(path):
    with open(path) as f:
        return f.read().split('\n')


def test_parity_with_official_post_processing(official, fixtures_dir):
    """Every line of post_taskweave.jsonl is reproduced byte for byte."""
    with open(osp.join(fixtures_dir, 'post_taskweave_meta.json')) as f:
        meta = json.load(f)
    settings = meta['post_processor']
    pp = MomentPostProcessor(
        clip_len=settings['clip_length'],
        min_ts=settings['min_ts_val'],
        max_ts=settings['max_ts_val'])
    assert [s['duration'] for s in official['samples']] == meta['durations']
    preds = pp(official['spans'], official['scores'], official['saliency'],
               official['mask'], official['samples'])
    lines = _read_lines(osp.join(fixtures_dir, 'post_taskweave.jsonl'))
    assert len(preds) == len(lines) == 4
    for pred, line, sample in zip(preds, lines, official['samples']):
        assert json.dumps({k: pred[k] for k in SUBMISSION_KEYS}) == line
        assert pred['duration'] == sample['duration']
        assert pred['ann'] is sample['ann']
        assert len(pred['pred_relevant_windows']) == 10


def test_parity_before_post_processor(official, fixtures_dir):
    """The rank stage equals the records handed to PostProcessorDETR."""
    pp = MomentPostProcessor()
    ranked = pp.rank_windows(official['spans'], official['scores'],
                             [s['duration'] for s in official['samples']])
    lines = _read_lines(
        osp.join(fixtures_dir, 'post_taskweave_before_postprocessor.jsonl'))
    assert len(ranked) == len(lines)
    for rows, line in zip(ranked, lines):
        assert rows == json.loads(line)['pred_relevant_windows']


def test_defaults_are_official_and_registered():
    pp = TASK_UTILS.build(dict(type='MomentPostProcessor'))
    assert isinstance(pp, MomentPostProcessor)
    assert (pp.clip_len, pp.min_ts, pp.max_ts, pp.round_to_clip,
            pp.decimals, pp.saliency_dtype, pp.nms_thr) == (2.0, 0.0, 150.0,
                                                            True, 4,
                                                            'float16', None)
    assert 'max_ts=150.0' in repr(pp)


# ---------------------------------------------------------------- units
def test_clamp_to_fixed_range_and_to_duration():
    # cxw (0.5, 1.2) * 150 s -> (-15, 165); (0.3, 0.2) -> (30, 60)
    spans = torch.tensor([[[0.5, 1.2], [0.3, 0.2]]])
    scores = torch.tensor([[0.9, 0.1]])
    fixed = MomentPostProcessor()(spans, scores, None, None, _samples(150))
    assert fixed[0]['pred_relevant_windows'] == [[0.0, 150.0, 0.9],
                                                 [30.0, 60.0, 0.1]]
    # a 100-s video: the official clamp keeps 110 s, beyond the video ...
    official = MomentPostProcessor()(spans, scores, None, None, _samples(100))
    assert official[0]['pred_relevant_windows'][0] == [0.0, 110.0, 0.9]
    # ... the duration clamp stops at the end of the video
    bounded = MomentPostProcessor(max_ts=None)(spans, scores, None, None,
                                               _samples(100))
    assert bounded[0]['pred_relevant_windows'] == [[0.0, 100.0, 0.9],
                                                   [20.0, 40.0, 0.1]]
    # no lower clamp: -10 s stays -10 s
    free = MomentPostProcessor(min_ts=None, max_ts=1000)(spans, scores, None,
                                                         None, _samples(100))
    assert free[0]['pred_relevant_windows'][0] == [-10.0, 110.0, 0.9]


def test_duration_clamp_is_per_sample():
    spans = torch.tensor([[[0.5, 1.2]], [[0.5, 1.2]]])
    scores = torch.tensor([[0.5], [0.5]])
    preds = MomentPostProcessor(max_ts=None)(spans, scores, None, None,
                                             _samples(40, 60))
    assert [p['pred_relevant_windows'] for p in preds] == [[[0.0, 40.0, 0.5]],
                                                           [[0.0, 60.0, 0.5]]]


def test_round_to_clip_is_half_to_even():
    ranked = [[[3.0, 5.0, 0.9], [1.0, 7.0, 0.8], [0.9999, 9.0001, 0.7],
               [11.0, 13.0, 0.6]]]
    refined = MomentPostProcessor().refine_windows(ranked, [150])
    # 1.5 -> 2, 2.5 -> 2, 0.5 -> 0, 3.5 -> 4, 4.50005 -> 5, 5.5 -> 6, 6.5 -> 6
    assert refined == [[[4.0, 4.0, 0.9], [0.0, 8.0, 0.8], [0.0, 10.0, 0.7],
                        [12.0, 12.0, 0.6]]]
    off = MomentPostProcessor(round_to_clip=False).refine_windows(
        ranked, [150])
    assert off[0][2][:2] == [pytest.approx(0.9999), pytest.approx(9.0001)]
    one = MomentPostProcessor(clip_len=1).refine_windows(ranked, [150])
    assert one[0][2] == [1.0, 9.0, 0.7]


def test_four_decimal_rounding_happens_before_clip_rounding():
    # end = 6.99996 s: rounded to 7.0 first, then 7/2 = 3.5 -> 4 -> 8 s
    # (rounding 6.99996 directly would give 6 s); start 3.00004 -> 3 -> 4 s
    spans = torch.tensor([[[0.05, 0.0399992]]])
    preds = MomentPostProcessor()(spans, torch.tensor([[0.123456]]), None,
                                  None, _samples(100))
    assert preds[0]['pred_relevant_windows'] == [[4.0, 8.0, 0.1235]]
    ranked = MomentPostProcessor().rank_windows(spans,
                                                torch.tensor([[0.123456]]),
                                                [100])
    assert ranked == [[[3.0, 7.0, 0.1235]]]
    raw = MomentPostProcessor(decimals=None).rank_windows(
        spans, torch.tensor([[0.123456]]), [100])
    assert raw[0][0][1] == pytest.approx(6.99996, abs=1e-5)


def test_sort_is_descending_stable_on_unrounded_scores():
    spans = _cxw([[0, 0.1], [0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5]])
    # 0.50001 and 0.50004 both print as 0.5; 0.2 appears twice (a tie)
    scores = torch.tensor([[0.2, 0.50001, 0.2, 0.9, 0.50004]])
    preds = MomentPostProcessor(round_to_clip=False)(spans, scores, None,
                                                     None, _samples(10))
    windows = preds[0]['pred_relevant_windows']
    assert [w[0] for w in windows] == [3.0, 4.0, 1.0, 0.0, 2.0]
    assert [w[2] for w in windows] == [0.9, 0.5, 0.5, 0.2, 0.2]
    unsorted = MomentPostProcessor(
        round_to_clip=False, sort=False)(spans, scores, None, None,
                                         _samples(10))
    assert [w[0] for w in unsorted[0]['pred_relevant_windows']] == [
        0.0, 1.0, 2.0, 3.0, 4.0
    ]


def test_num_windows_keeps_the_top_k():
    spans = _cxw([[0, 0.2], [0.2, 0.4], [0.4, 0.6]])
    scores = torch.tensor([[0.1, 0.3, 0.2]])
    preds = MomentPostProcessor(num_windows=2)(spans, scores, None, None,
                                               _samples(100))
    assert preds[0]['pred_relevant_windows'] == [[20.0, 40.0, 0.3],
                                                 [40.0, 60.0, 0.2]]


def test_saliency_cast_and_truncation():
    saliency = torch.tensor([[0.1, 0.2, -0.3, 9.0, 9.0],
                             [1.0, 2.0, 3.0, 4.0, 5.0]])
    mask = torch.tensor([[1., 1., 1., 0., 0.], [1., 1., 1., 1., 1.]])
    spans = torch.full((2, 1, 2), 0.5)
    scores = torch.ones(2, 1)
    preds = MomentPostProcessor()(spans, scores, saliency, mask,
                                  _samples(10, 10))
    # fp16(0.1) = 0.0999755859375, fp16(0.2) = 0.199951171875,
    # fp16(-0.3) = -0.300048828125
    assert preds[0]['pred_saliency_scores'] == [
        0.0999755859375, 0.199951171875, -0.300048828125
    ]
    assert preds[1]['pred_saliency_scores'] == [1.0, 2.0, 3.0, 4.0, 5.0]
    fp32 = MomentPostProcessor(saliency_dtype='float32')(spans, scores,
                                                         saliency, mask,
                                                         _samples(10, 10))
    assert fp32[0]['pred_saliency_scores'][0] == 0.10000000149011612
    no_hd = MomentPostProcessor()(spans, scores, None, None, _samples(10, 10))
    assert 'pred_saliency_scores' not in no_hd[0]
    assert list(no_hd[0]) == [
        'qid', 'query', 'vid', 'duration', 'pred_relevant_windows', 'ann'
    ]


def test_ann_is_optional_and_passed_through():
    samples = [dict(qid='a', query='q', vid='v', duration=10.0)]
    preds = MomentPostProcessor()(torch.full((1, 1, 2), 0.5),
                                  torch.ones(1, 1), None, None, samples)
    assert 'ann' not in preds[0]
    assert preds[0]['qid'] == 'a'


def test_empty_batch():
    assert MomentPostProcessor()(torch.zeros(0, 10, 2), torch.zeros(0, 10),
                                 None, None, []) == []


# ------------------------------------------------------------------ NMS
def test_pairwise_iou_hand_computed():
    windows = torch.tensor([[[0., 10.], [2., 10.], [10., 20.], [5., 15.]]])
    iou = pairwise_window_iou(windows)[0]
    assert iou[0, 1] == pytest.approx(0.8)
    assert iou[0, 2] == 0  # touching windows do not overlap
    assert iou[0, 3] == pytest.approx(5 / 15)
    assert iou[1, 3] == pytest.approx(5 / 13)
    assert torch.equal(iou, iou.T)
    assert torch.all(iou.diagonal() == 1)


def test_nms_hand_computed():
    windows = torch.tensor([[[0., 10.], [2., 10.], [20., 30.], [0., 8.]],
                            [[0., 10.], [5., 15.], [10., 20.], [0., 10.]]])
    keep = batched_temporal_nms(windows, 0.7)
    # sample 0: w1 (IoU 0.8 with w0) and w3 (IoU 0.8 with w0) suppressed
    # sample 1: w1 (IoU 1/3) and w2 kept at 0.7; w3 duplicates w0
    assert keep.tolist() == [[True, False, True, False],
                             [True, True, True, False]]
    # at 0.3, w1 of sample 1 is suppressed by w0 and, being gone, no longer
    # suppresses w2 (IoU(w1, w2) = 1/3 > 0.3)
    keep = batched_temporal_nms(windows, 0.3)
    assert keep[1].tolist() == [True, False, True, False]
    assert batched_temporal_nms(windows, 0.7, max_after_nms=1).tolist() == [
        [True, False, False, False], [True, False, False, False]
    ]
    assert batched_temporal_nms(windows, 0.7, max_before_nms=2).tolist() == [
        [True, False, False, False], [True, True, False, False]
    ]


def _official_greedy_nms(rows, thr, max_before, max_after):
    """Plain loop with the semantics of the official ``temporal_nms``."""
    rows = rows[:max_before]
    kept = []
    for row in rows:
        if len(kept) == max_after:
            break
        overlaps = []
        for k in kept:
            inter = max(0.0, min(row[1], k[1]) - max(row[0], k[0]))
            hull = max(row[1], k[1]) - min(row[0], k[0])
            overlaps.append(inter / hull if inter > 0 else 0.0)
        if all(o <= thr for o in overlaps):
            kept.append(row)
    return kept


def test_nms_matches_plain_loop_on_random_windows():
    rng = random.Random(0)
    for _ in range(50):
        rows = []
        for _ in range(12):
            start = rng.randrange(0, 60) * 2.0
            rows.append([start, start + rng.randrange(0, 20) * 2.0,
                         rng.random()])
        rows.sort(key=lambda r: r[2], reverse=True)
        thr = rng.choice([0.0, 0.3, 0.5, 0.7])
        keep = batched_temporal_nms(
            torch.tensor([[r[:2] for r in rows]]), thr, 10, 5)[0]
        ours = [r for r, k in zip(rows, keep.tolist()) if k]
        assert ours == _official_greedy_nms(rows, thr, 10, 5)


def test_post_processor_with_nms():
    spans = _cxw([[0.0, 0.1], [0.02, 0.1], [0.2, 0.3]])
    scores = torch.tensor([[0.9, 0.8, 0.7]])
    pp = MomentPostProcessor(nms_thr=0.7)
    preds = pp(spans, scores, None, None, _samples(100))
    assert preds[0]['pred_relevant_windows'] == [[0.0, 10.0, 0.9],
                                                 [20.0, 30.0, 0.7]]
    kept_all = MomentPostProcessor(nms_thr=0.9)(spans, scores, None, None,
                                                _samples(100))
    assert len(kept_all[0]['pred_relevant_windows']) == 3


# --------------------------------------------------------------- errors
@pytest.mark.parametrize('kwargs, match', [
    (dict(clip_len=0), 'clip_len'),
    (dict(min_ts=10, max_ts=5), 'min_ts'),
    (dict(decimals=-1), 'decimals'),
    (dict(saliency_dtype='int8'), 'saliency_dtype'),
    (dict(nms_thr=1.5), 'nms_thr'),
    (dict(max_after_nms=0), 'max_after_nms'),
    (dict(num_windows=0), 'num_windows'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MomentPostProcessor(**kwargs)


def test_shape_errors():
    pp = MomentPostProcessor()
    spans, scores = torch.rand(2, 3, 2), torch.rand(2, 3)
    sal, mask = torch.rand(2, 5), torch.ones(2, 5)
    with pytest.raises(ValueError, match=r'pred_spans must have shape'):
        pp(torch.rand(2, 3, 3), scores, sal, mask, _samples(1, 1))
    with pytest.raises(ValueError, match=r'pred_scores must have shape'):
        pp(spans, torch.rand(2, 4), sal, mask, _samples(1, 1))
    with pytest.raises(ValueError, match=r'got 1 data samples'):
        pp(spans, scores, sal, mask, _samples(1))
    with pytest.raises(ValueError, match=r'video_mask is required'):
        pp(spans, scores, sal, None, _samples(1, 1))
    with pytest.raises(ValueError, match=r'saliency_scores must have shape'):
        pp(spans, scores, torch.rand(3, 5), mask, _samples(1, 1))
    with pytest.raises(ValueError, match=r'video_mask shape'):
        pp(spans, scores, sal, torch.ones(2, 4), _samples(1, 1))


def test_data_sample_errors():
    pp = MomentPostProcessor()
    spans, scores = torch.rand(1, 3, 2), torch.rand(1, 3)
    with pytest.raises(KeyError, match=r"qid 7.*'duration'"):
        pp(spans, scores, None, None, [dict(qid=7, query='q', vid='v')])
    with pytest.raises(ValueError, match=r'qid 0.*invalid duration'):
        pp(spans, scores, None, None, _samples(0))
    bad = spans.clone()
    bad[0, 1, 0] = float('nan')
    with pytest.raises(ValueError, match=r'non-finite.*qid 0'):
        pp(bad, scores, None, None, _samples(10))
