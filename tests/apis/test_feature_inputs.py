# Copyright (c) mmmrhd contributors. All rights reserved.
"""Inferencer inputs: feature files/arrays, the cache, query parsing."""
import numpy as np
import pytest

from mmmrhd.apis.feature_inputs import (LRUCache, file_key, parse_queries,
                                        read_stream_features,
                                        text_model_input, video_model_input)
from mmmrhd.datasets.transforms import LoadTextFeatures, LoadVideoFeatures
from mmmrhd.testing.storage import register_memory_backend

NAMES = ['slowfast', 'clip']


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return dict(slowfast=rng.standard_normal((5, 6)).astype(np.float16),
                clip=rng.standard_normal((4, 3)))


def test_read_stream_features_sources(arrays, tmp_path):
    expected = {k: v.astype(np.float32) for k, v in arrays.items()}

    def check(feats):
        assert list(feats) == NAMES
        for k in NAMES:
            assert feats[k].dtype == np.float32
            assert np.array_equal(feats[k], expected[k])

    check(read_stream_features(arrays, NAMES, 'features'))
    both = str(tmp_path / 'both.npz')
    np.savez(both, **arrays)
    check(read_stream_features(both, NAMES, 'features'))
    paths = {}
    for k, v in arrays.items():
        paths[k] = str(tmp_path / f'{k}.npz')
        np.savez(paths[k], features=v)
    check(read_stream_features(paths, NAMES, 'features'))
    np.save(str(tmp_path / 'clip.npy'), arrays['clip'])
    one = read_stream_features(str(tmp_path / 'clip.npy'), ['clip'], None)
    assert np.array_equal(one['clip'], expected['clip'])
    one = read_stream_features(paths['clip'], ['clip'], 'features')
    assert np.array_equal(one['clip'], expected['clip'])


def test_read_stream_features_errors(arrays, tmp_path):
    with pytest.raises(KeyError, match=r"missing \['clip'\], unknown "
                       r"\['other'\]"):
        read_stream_features(dict(slowfast=arrays['slowfast'], other=1),
                             NAMES, 'features')
    with pytest.raises(ValueError, match='one array cannot hold the 2'):
        read_stream_features(arrays['clip'], NAMES, 'features')
    path = str(tmp_path / 'x.npz')
    np.savez(path, features=arrays['clip'])
    with pytest.raises(KeyError, match=r"holds \['features'\]; expected "
                       r"one array per stream \['slowfast', 'clip'\]"):
        read_stream_features(path, NAMES, 'features')
    np.save(str(tmp_path / 'x.npy'), arrays['clip'])
    with pytest.raises(ValueError, match='one .npy array cannot hold'):
        read_stream_features(str(tmp_path / 'x.npy'), NAMES, 'features')
    with pytest.raises(TypeError, match='video features must be'):
        read_stream_features(3, NAMES, 'features')


def test_model_input_uses_the_loaders(arrays):
    loader = LoadVideoFeatures(max_len=None, length_tolerance=1)
    feat = video_model_input(arrays, NAMES, loader)
    sf = arrays['slowfast'].astype(np.float32)
    clip = arrays['clip'].astype(np.float32)
    sf = sf / (np.linalg.norm(sf, axis=1, keepdims=True) + 1e-5)
    clip = clip / (np.linalg.norm(clip, axis=1, keepdims=True) + 1e-5)
    assert np.array_equal(feat, np.concatenate([sf[:4], clip], 1))
    strict = LoadVideoFeatures(max_len=None, length_tolerance=0)
    with pytest.raises(ValueError, match='differ in length by more than 0'):
        video_model_input(arrays, NAMES, strict)
    raw = LoadVideoFeatures(max_len=None, normalize=False)
    assert np.array_equal(video_model_input(arrays, ['clip'], raw),
                          arrays['clip'].astype(np.float32))  # normalize off
    text = LoadTextFeatures(max_len=2)
    tokens = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = text_model_input(dict(last_hidden_state=tokens), text, 'q')
    expected = tokens[:2] / (np.linalg.norm(tokens[:2], axis=1,
                                            keepdims=True) + 1e-5)
    assert np.array_equal(out, expected)
    with pytest.raises(KeyError, match="the config reads 'last_hidden"):
        text_model_input(dict(token=tokens), text, 'q')


def test_lru_cache(tmp_path):
    cache = LRUCache(2)
    calls = []

    def compute(v):
        return lambda: calls.append(v) or v

    assert cache.get_or_compute('a', compute(1)) == 1
    assert cache.get_or_compute('a', compute(9)) == 1
    cache.get_or_compute('b', compute(2))
    cache.get_or_compute('a', compute(9))  # a is now the most recent
    cache.get_or_compute('c', compute(3))  # evicts b
    assert len(cache) == 2
    assert cache.get_or_compute('b', compute(4)) == 4
    assert cache.get_or_compute(None, compute(5)) == 5  # never cached
    assert calls == [1, 2, 3, 4, 5]
    assert LRUCache(0).get_or_compute('k', compute(6)) == 6
    with pytest.raises(ValueError, match='cache size must be >= 0'):
        LRUCache(-1)
    path = tmp_path / 'f.bin'
    path.write_bytes(b'1')
    key = file_key(str(path))
    path.write_bytes(b'22')
    assert file_key(str(path)) != key
    # no version to tell for a missing file or one on another backend:
    # never cached
    assert file_key(str(tmp_path / 'missing.npz')) is None
    register_memory_backend('mmmrhd_test_key', prefixes='memkey')
    assert file_key(str(path), dict(backend='mmmrhd_test_key')) is None
    assert file_key('memkey://bucket/f.npz') is None


def test_parse_queries():
    tokens = np.zeros((2, 3), np.float32)
    items = parse_queries(['a', dict(query='b', qid='x', extra=1), tokens])
    assert items[0] == dict(query='a', qid=0)
    assert items[1] == dict(query='b', qid='x', extra=1)
    assert items[2]['query'] == 'query 2' and items[2]['qid'] == 2
    assert items[2]['text_feat'] is tokens
    assert parse_queries('single') == [dict(query='single', qid=0)]
    with pytest.raises(ValueError, match='no query given'):
        parse_queries([])
