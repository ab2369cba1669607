# Copyright (c) mmmrhd contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest

from mmmrhd.datasets.transforms import LoadVideoFeatures
from mmmrhd.registry import TRANSFORMS


def norm(x):
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-5)


def results_for(factory, vid='v1', qid=1, dirs=('sf', 'clip')):
    return dict(vid=vid, qid=qid,
                video_feat_dirs=[factory.path(d) for d in dirs])


def test_streams_normalised_separately_then_cut_and_concatenated(factory):
    feats = factory.video('v1', dict(sf=9, clip=8), dims=dict(sf=6, clip=4))
    t = TRANSFORMS.build(dict(type='LoadVideoFeatures', max_len=75))
    out = t(results_for(factory))
    assert out['num_clips'] == 8
    assert out['video_feat'].dtype == np.float32
    assert out['video_feat'].shape == (8, 10)
    np.testing.assert_array_equal(out['video_feat'][:, :6],
                                  norm(feats['sf'])[:8])
    np.testing.assert_array_equal(out['video_feat'][:, 6:],
                                  norm(feats['clip']))
    np.testing.assert_allclose(
        np.linalg.norm(out['video_feat'][:, :6], axis=1), 1, atol=1e-4)


def test_max_len_before_length_check_and_no_normalize(factory):
    # 80 vs 77 clips differ by 3, but both are cut to 75 first.
    feats = factory.video('v1', dict(sf=80, clip=77))
    t = LoadVideoFeatures(max_len=75, normalize=False, length_tolerance=0)
    out = t(results_for(factory))
    assert out['num_clips'] == 75
    np.testing.assert_array_equal(out['video_feat'][:, :6], feats['sf'][:75])


def test_single_stream_and_custom_key(factory):
    arr = factory.randn(4, 3)
    factory.npz('x/vidB.npz', emb=arr)
    t = LoadVideoFeatures(key='emb', max_len=None)
    out = t(dict(vid='vidB', qid=0, video_feat_dirs=[factory.path('x')]))
    np.testing.assert_array_equal(out['video_feat'], norm(arr))


def test_tvsum_rgb_and_flow_files_form_one_stream(factory):
    rgb, flow = factory.randn(6, 4), factory.randn(5, 4)
    factory.npy('i3d/vidT_rgb.npy', rgb)
    factory.npy('i3d/vidT_opt.npy', flow)
    t = TRANSFORMS.build(
        dict(
            type='LoadVideoFeatures',
            file_template=['{vid}_rgb.npy', '{vid}_opt.npy'],
            key=None,
            max_len=1000))
    out = t(dict(vid='vidT', qid='vidT',
                 video_feat_dirs=[factory.path('i3d')]))
    # Concatenated first (cut to 5 clips), then normalised together.
    expected = norm(np.concatenate([rgb[:5], flow], axis=1))
    np.testing.assert_array_equal(out['video_feat'], expected)
    assert out['num_clips'] == 5


def test_errors_name_the_files(factory):
    factory.video('v1', dict(sf=10, clip=7))
    t = LoadVideoFeatures()
    with pytest.raises(ValueError, match=r'video feature streams differ in '
                       r'length by more than 2: .*sf/v1\.npz has 10 rows, '
                       r'.*clip/v1\.npz has 7'):
        t(results_for(factory))
    assert LoadVideoFeatures(length_tolerance=None)(
        results_for(factory))['num_clips'] == 7
    with pytest.raises(FileNotFoundError, match=r'clip/v2\.npz'):
        factory.video('v2', dict(sf=10))
        t(results_for(factory, vid='v2'))
    factory.npz('sf/v3.npz', feats=np.ones((3, 2)))
    with pytest.raises(KeyError, match=r"has no array 'features' "
                       r"\(available: \['feats'\]\)"):
        t(results_for(factory, vid='v3', dirs=('sf', )))
    factory.npz('sf/v4.npz', features=np.float32([[1, np.nan]]))
    t = LoadVideoFeatures()  # a fresh width record: v4 is 2 wide, v1 6
    with pytest.raises(ValueError, match=r'sf/v4\.npz has NaN/inf'):
        t(results_for(factory, vid='v4', dirs=('sf', )))
    factory.npz('sf/v5.npz', features=np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r'sf/v5\.npz is empty'):
        t(results_for(factory, vid='v5', dirs=('sf', )))


def test_bad_arguments():
    with pytest.raises(ValueError, match='give the key'):
        LoadVideoFeatures(key=None)
    with pytest.raises(ValueError, match='at least one file'):
        LoadVideoFeatures(file_template=[])
    with pytest.raises(ValueError, match='max_len'):
        LoadVideoFeatures(max_len=0)
    with pytest.raises(ValueError, match='length_tolerance'):
        LoadVideoFeatures(length_tolerance=-1)
    assert 'max_len=75' in repr(LoadVideoFeatures())


def test_template_formats_qid(factory):
    factory.npz(osp.join('per_query', 'q7.npz'), features=np.ones((2, 2)))
    t = LoadVideoFeatures(file_template='q{qid}.npz')
    out = t(dict(vid='x', qid=7,
                 video_feat_dirs=[factory.path('per_query')]))
    assert out['num_clips'] == 2
