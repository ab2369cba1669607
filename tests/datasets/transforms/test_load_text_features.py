# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import pytest

from mmmrhd.datasets.transforms import LoadTextFeatures
from mmmrhd.registry import TRANSFORMS


def norm(x):
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-5)


def test_official_text_loading(factory):
    tokens = factory.text(5, length=40, dim=4)
    t = TRANSFORMS.build(dict(type='LoadTextFeatures', max_len=32))
    out = t(dict(qid=5, vid='v', text_feat_dirs=[factory.path('text')]))
    assert out['text_feat'].shape == (32, 4)
    assert out['text_feat'].dtype == np.float32
    np.testing.assert_array_equal(out['text_feat'], norm(tokens[:32]))


def test_tvsum_layout_unnormalised(factory):
    token = factory.randn(3, 4).astype(np.float64)
    factory.npz('q/vidT.npz', token=token)
    t = LoadTextFeatures(file_template='{qid}.npz', key='token',
                         max_len=None, normalize=False)
    out = t(dict(qid='vidT', vid='vidT', text_feat_dirs=[factory.path('q')]))
    np.testing.assert_array_equal(out['text_feat'], token.astype(np.float32))


def test_pooler_output_is_one_token(factory):
    tokens = factory.text(1, length=3, dim=4)
    t = LoadTextFeatures(key='pooler_output')
    out = t(dict(qid=1, vid='v', text_feat_dirs=[factory.path('text')]))
    np.testing.assert_array_equal(out['text_feat'], norm(tokens[:1]))


def test_several_text_streams(factory):
    clip = factory.text(2, length=6, dim=4, stream='clip_t')
    blip = factory.text(2, length=4, dim=3, stream='blip_t')
    t = LoadTextFeatures()
    out = t(dict(qid=2, vid='v', text_feat_dirs=[factory.path('clip_t'),
                                                 factory.path('blip_t')]))
    expected = np.concatenate([norm(clip)[:4], norm(blip)], axis=1)
    np.testing.assert_array_equal(out['text_feat'], expected)
    with pytest.raises(ValueError, match='text feature streams differ'):
        LoadTextFeatures(length_tolerance=1)(
            dict(qid=2, vid='v', text_feat_dirs=[factory.path('clip_t'),
                                                 factory.path('blip_t')]))


def test_text_errors(factory):
    factory.text(1)
    t = LoadTextFeatures()
    with pytest.raises(FileNotFoundError, match=r'text feature file not '
                       r'found: .*text/qid2\.npz'):
        t(dict(qid=2, vid='v', text_feat_dirs=[factory.path('text')]))
    with pytest.raises(KeyError, match=r"no array 'token' \(available: "
                       r"\['last_hidden_state', 'pooler_output'\]\)"):
        LoadTextFeatures(key='token')(
            dict(qid=1, vid='v', text_feat_dirs=[factory.path('text')]))
    factory.npz('text/qid3.npz', last_hidden_state=np.float32([[np.inf]]))
    with pytest.raises(ValueError, match='NaN/inf'):
        t(dict(qid=3, vid='v', text_feat_dirs=[factory.path('text')]))
    with pytest.raises(ValueError, match='max_len'):
        LoadTextFeatures(max_len=0)
    with pytest.raises(ValueError, match='key must be None'):
        LoadTextFeatures(file_template='{qid}.npy')
