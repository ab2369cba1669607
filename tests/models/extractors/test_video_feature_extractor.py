# Copyright (c) mmmrhd contributors. All rights reserved.
"""The extractor interface: stream specs, extract_video, extract_text."""
import numpy as np
import pytest
import torch

from mmmrhd.datasets.transforms import VideoDecodeError
from mmmrhd.models.extractors import StreamSpec, VideoFeatureExtractor
from mmmrhd.registry import MODELS
from mmmrhd.testing.extractor import tiny_extractor_cfg
from mmmrhd.utils.errors import ConfigError

pytest.importorskip('av')
from mmmrhd.testing.video import (make_audio_only_file,  # noqa: E402
                                  make_test_video)


@pytest.fixture(scope='module')
def extractor():
    torch.manual_seed(0)
    return MODELS.build(tiny_extractor_cfg())


def test_streams_declared_in_model_order(extractor):
    assert extractor.streams == [
        StreamSpec('slowfast', 288, 2.0, 30.0),
        StreamSpec('clip', 16, 2.0, 0.5)
    ]
    extractor.check_model_streams([
        dict(name='slowfast', dim=288), dict(name='clip', dim=16),
        dict(name='tef', dim=2)
    ])
    with pytest.raises(ConfigError, match='clip 16 \\+ slowfast 288'):
        extractor.check_model_streams(
            [dict(name='clip', dim=16), dict(name='slowfast', dim=288)])
    with pytest.raises(ConfigError, match='slowfast 2304'):
        extractor.check_model_streams(
            [dict(name='slowfast', dim=2304), dict(name='clip', dim=16)])


def test_extract_video_rows_and_storage_rounding(extractor, tmp_path):
    # 200 frames at 29.97 fps = 6.67 s: SlowFast ceil(6.67 / 2) = 4 rows;
    # CLIP at 0.5 fps: frames at 0-2-4 s slots, round(6.67 * 0.5) = 3 rows
    path = make_test_video(str(tmp_path / 'v.mp4'), fps='30000/1001',
                           num_frames=200, width=96, height=72)
    feats = extractor.extract_video(path)
    assert list(feats) == ['slowfast', 'clip']
    assert feats['slowfast'].shape == (4, 288)
    assert feats['clip'].shape == (3, 16)
    for array in feats.values():
        assert array.dtype == np.float32
        # stored precision: float16 round trip is the identity
        assert np.array_equal(array.astype(np.float16).astype(np.float32),
                              array)
        assert np.isfinite(array).all() and np.abs(array).sum() > 0
    # deterministic
    again = extractor.extract_video(path)
    assert all(np.array_equal(feats[k], again[k]) for k in feats)


def test_extract_text(extractor):
    out = extractor.extract_text(['A man walks', 'x' * 50])
    assert out[0]['last_hidden_state'].shape == (11 + 2, 32)
    assert out[1]['last_hidden_state'].shape == (30 + 2, 32)  # truncated
    assert out[0]['pooler_output'].shape == (16, )
    single = extractor.extract_text('A man walks')
    assert np.array_equal(single[0]['pooler_output'],
                          out[0]['pooler_output'])
    with pytest.raises(ValueError, match='query 0 is empty'):
        extractor.extract_text([' '])


def test_errors(extractor, tmp_path):
    with pytest.raises(VideoDecodeError, match='not found'):
        extractor.extract_video(str(tmp_path / 'nope.mp4'))
    audio = make_audio_only_file(str(tmp_path / 'a.m4a'))
    with pytest.raises(VideoDecodeError, match='no video stream'):
        extractor.extract_video(audio)
    cfg = tiny_extractor_cfg()
    cfg.pop('text_encoder')
    no_text = MODELS.build(cfg)
    with pytest.raises(ConfigError, match='no text_encoder'):
        no_text.extract_text(['a'])
    with pytest.raises(ConfigError, match='duplicate'):
        VideoFeatureExtractor(streams=[cfg['streams'][1]] * 2)
    with pytest.raises(ConfigError, match='empty'):
        VideoFeatureExtractor(streams=[])
    with pytest.raises(ConfigError, match='storage_dtype'):
        VideoFeatureExtractor(streams=cfg['streams'], storage_dtype='int8')
