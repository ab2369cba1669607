# Copyright (c) mmmrhd contributors. All rights reserved.
"""The up-front data check lists every problem of a split at once."""
import io
import os
import re

import numpy as np
import pytest
from mmengine.config import Config

from mmmrhd.datasets.checks import (build_split_dataset, check_config_data,
                                    check_dataset, check_model_dims)
from mmmrhd.utils.errors import ConfigError

PIPELINE = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='PackMRHDInputs'),
]


def make_config(factory, records, **model_dims):
    factory.jsonl('ann.jsonl', records)
    dataset = dict(type='QVHighlightsDataset', ann_file='ann.jsonl',
                   data_root=factory.root, data_prefix=factory.prefix(),
                   pipeline=PIPELINE)
    video, text = model_dims.get('video', (6, 6)), model_dims.get('text', 4)
    return Config(dict(
        train_dataloader=dict(dataset=dataset),
        val_dataloader=dict(dataset=dict(dataset, test_mode=True)),
        model=dict(
            video_proj=dict(streams=[
                dict(name='sf', dim=video[0]),
                dict(name='clip', dim=video[1]),
                dict(name='tef', dim=2)
            ]),
            text_proj=dict(streams=[dict(name='clip_text', dim=text)]))))


def good_video(factory, vid, n=10):
    factory.video(vid, dict(sf=n, clip=n))


def test_clean_dataset_has_no_problem(factory):
    records = [factory.record(qid=q, vid=f'v{q % 2}') for q in range(4)]
    for vid in ('v0', 'v1'):
        good_video(factory, vid)
    for q in range(4):
        factory.text(q)
    cfg = make_config(factory, records)
    result = check_dataset(build_split_dataset(cfg, 'train'))
    assert result.problems == []
    assert result.num_records == 4
    assert result.num_files == 2 * 2 + 4  # 2 videos x 2 streams + 4 texts
    assert result.input_dims == dict(video=6 + 6 + 2, text=4)
    assert check_model_dims(cfg.model, result.input_dims) == []
    out = io.StringIO()
    assert check_config_data(cfg, ['train', 'val'], out=out) == 0
    report = out.getvalue()
    assert ('[train] 4 records, 8 feature files, input widths video 14, '
            'text 4: no problem(s)') in report
    assert '[val] 4 records' in report


def test_every_problem_is_listed(factory):
    records = [factory.record(qid=q, vid=f'v{q}') for q in range(1, 10)]
    records[1] = factory.record(qid=2, vid='v2', windows=[(8, 4)])  # bad
    records[5] = factory.record(qid=6, vid='v6', windows=[(10, 20)],
                                clip_ids=[8, 9])  # needs 10 - 1 clips
    records.append(factory.record(qid='1', vid='v1'))  # duplicate qid
    for q in range(1, 10):
        good_video(factory, f'v{q}')
        factory.text(q)
    # v3: the CLIP file is garbage; v4: sf file is missing; v5: clip is 5
    # wide (others 6); v6: sf is too short for its windows (needs 9 of 10
    # clips); v7: NaN; v8: sf and clip lengths differ by 4 (> 2);
    # qid 9: its text file is truncated.
    with open(factory.path('clip/v3.npz'), 'wb') as f:
        f.write(b'garbage')
    os.remove(factory.path('sf/v4.npz'))
    factory.npz('clip/v5.npz', features=np.ones((10, 5), np.float32))
    factory.npz('sf/v6.npz', features=np.ones((8, 6), np.float32))
    factory.npz('sf/v7.npz', features=np.full((10, 6), np.nan, np.float32))
    factory.npz('clip/v8.npz', features=np.ones((14, 6), np.float32))
    with open(factory.path('text/qid9.npz'), 'r+b') as f:
        f.truncate(100)
    cfg = make_config(factory, records)
    result = check_dataset(build_split_dataset(cfg, 'train'))
    problems = result.problems
    expected = [
        r'ann\.jsonl:2 \(qid=2\): relevant_windows\[0\] = \[8, 4\] has '
        'start > end',
        r'ann\.jsonl:10: duplicate qid',
        r'video feature file .*clip/v3\.npz is not a valid \.npz archive '
        r"\(unrecognised content\) \(needed by qid 3\)",
        r'video feature file not found: .*sf/v4\.npz \(needed by qid 4\)',
        r'video feature file .*sf/v6\.npz has 8 clips \(16 s at clip_len '
        r"2\), but qid 6 \(vid 'v6'\) is annotated up to 20 s, which needs "
        'at least 9 clips',
        r'video feature file .*sf/v7\.npz has NaN/inf values in rows '
        r'\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9\]',
        r'cannot read text feature file .*qid9\.npz',
        r'video feature file .*clip/v5\.npz has width 5, but 6 other '
        r'file\(s\) of the stream .*clip/\{vid\}\.npz have width 6',
        r"feature streams of qid 8 \(vid 'v8'\) differ in length by more "
        r'than 2: .*sf/v8\.npz has 10 rows, .*clip/v8\.npz has 14 rows',
    ]
    for pattern in expected:
        assert sum(bool(re.search(pattern, p)) for p in problems) == 1, (
            pattern, problems)
    assert len(problems) == len(expected)
    assert all('\n' not in p for p in problems)
    assert result.num_records == 8


def test_short_file_vs_the_longest_annotation_of_its_video(factory):
    # Two queries on one video: the one annotated up to 150 s decides.
    records = [
        factory.record(qid=1, vid='v', duration=150, windows=[(0, 10)],
                       clip_ids=[1], scores=[(1, 1, 1)]),
        factory.record(qid=2, vid='v', duration=150, windows=[(140, 150)],
                       clip_ids=[70], scores=[(1, 1, 1)]),
    ]
    factory.video('v', dict(sf=75, clip=60))
    factory.text(1)
    factory.text(2)
    cfg = make_config(factory, records)
    problems = check_dataset(build_split_dataset(cfg, 'train')).problems
    assert len(problems) == 2  # too short, and 15 clips shorter than sf
    assert 'differ in length by more than 2' in problems[1]
    assert ("clip/v.npz has 60 clips (120 s at clip_len 2), but qid 2 (vid "
            "'v') is annotated up to 150 s, which needs at least 74 clips"
            ) in problems[0]


def test_model_dims_mismatch_and_unusable_config(factory):
    records = [factory.record(qid=1, vid='v')]
    good_video(factory, 'v')
    factory.text(1)
    cfg = make_config(factory, records, video=(2304, 512), text=512)
    out = io.StringIO()
    assert check_config_data(cfg, ['train'], progress=False, out=out) == 2
    assert ('the video features are 14 wide after the pipeline, but '
            'model.video_proj expects 2818 (sf 2304 + clip 512 + tef 2)'
            ) in out.getvalue()
    assert 'model.text_proj expects 512' in out.getvalue()
    with pytest.raises(ConfigError, match='the config has no '
                       'test_dataloader.dataset'):
        build_split_dataset(cfg, 'test')


def test_unreadable_annotation_file_is_one_problem(factory):
    cfg = make_config(factory, [])
    with open(factory.path('ann.jsonl'), 'wb') as f:
        f.write(b'{"qid": 1}\n\xff\n')
    result = check_dataset(build_split_dataset(cfg, 'train'))
    assert len(result.problems) == 1
    assert 'ann.jsonl:2: not valid UTF-8 (byte 0xff' in result.problems[0]
    assert result.num_records == 0
