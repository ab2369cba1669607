# Copyright (c) mmmrhd contributors. All rights reserved.
"""The HERO extraction configs build the documented streams and refuse to
run without their weight files."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmmrhd.registry import MODELS
from mmmrhd.utils.errors import CheckpointError

CFG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'feature_extraction')


def _without_weights(cfg):
    extractor = cfg.extractor.to_dict()
    extractor['streams'][0]['pretrained'] = None
    extractor['streams'][1]['backbone']['pretrained'] = None
    extractor['text_encoder']['pretrained'] = None
    extractor['_scope_'] = 'mmmrhd'
    return extractor


@pytest.mark.parametrize('name,clip_len', [('hero_qvhighlights.py', 2.0),
                                           ('hero_charades_sta_1s.py', 1.0)])
def test_hero_configs(name, clip_len):
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    assert cfg.recipe
    extractor = MODELS.build(_without_weights(cfg))
    assert [(s.name, s.dim, s.clip_len, s.fps)
            for s in extractor.streams] == [
                ('slowfast', 2304, clip_len, 30.0),
                ('clip', 512, clip_len, 1 / clip_len)
            ]
    assert extractor.text_dim == 512
    assert extractor.storage_dtype == 'float16'
    text = extractor.text_encoder
    assert text.max_bpe_tokens == 30 and text.text.context_length == 77
    slowfast = extractor.stream_modules[0]
    assert (slowfast.num_frames, slowfast.sampling_rate,
            slowfast.target_fps) == (32, 2, 30)
    assert (slowfast.mean, slowfast.std) == (0.45, 0.225)
    # the configured weight files are required (no silent random init)
    extractor_cfg = cfg.extractor.to_dict()
    extractor_cfg['_scope_'] = 'mmmrhd'
    with pytest.raises(CheckpointError, match='SLOWFAST_8x8_R50.pkl'):
        MODELS.build(extractor_cfg)
