# Copyright (c) mmmrhd contributors. All rights reserved.
import io

import pytest
import torch
import torch.nn.functional as F

from mmmrhd.models.layers import InputProjection

STREAMS = [dict(name='slowfast', dim=5), dict(name='tef', dim=2)]


def test_forward_is_official_linear_layers():
    proj = InputProjection(STREAMS, out_dim=4, num_layers=2).eval()
    assert proj.in_dim == 7
    assert [l.relu for l in proj.layers] == [True, False]
    x = torch.randn(2, 3, 7)
    l0, l1 = proj.layers
    h = F.relu(l0.fc(l0.norm(x)))
    expected = l1.fc(l1.norm(h))
    torch.testing.assert_close(proj(x), expected)
    assert [n for n, _ in proj.named_parameters()] == [
        'layers.0.norm.weight', 'layers.0.norm.bias', 'layers.0.fc.weight',
        'layers.0.fc.bias', 'layers.1.norm.weight', 'layers.1.norm.bias',
        'layers.1.fc.weight', 'layers.1.fc.bias'
    ]


def test_width_mismatch_message():
    proj = InputProjection(
        [dict(name='slowfast', dim=2048),
         dict(name='tef', dim=2)], out_dim=4)
    with pytest.raises(ValueError) as err:
        proj(torch.zeros(1, 2, 2818))
    assert str(err.value) == (
        'video_feat has 2818 columns but the declared streams sum to 2050 '
        '(slowfast 2048 + tef 2)')


def test_layout_buffers_roundtrip_weights_only():
    proj = InputProjection(STREAMS, out_dim=4)
    sd = proj.state_dict()
    assert sd['stream_dims'].tolist() == [5, 2]
    assert bytes(sd['stream_names'].tolist()).decode() == 'slowfast,tef'
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    other = InputProjection(STREAMS, out_dim=4)
    other.load_state_dict(loaded, strict=True)
    torch.testing.assert_close(other.layers[0].fc.weight,
                               proj.layers[0].fc.weight)
    assert InputProjection.layout_state(STREAMS)['stream_dims'].tolist() == [
        5, 2
    ]


def test_checkpoint_layout_mismatch_is_reported():
    src = InputProjection([dict(name='clip', dim=5),
                           dict(name='tef', dim=2)],
                          out_dim=4)
    dst = InputProjection(STREAMS, out_dim=4, input_name='video_feat')
    with pytest.raises(ValueError) as err:
        dst.load_state_dict(src.state_dict())
    assert ('checkpoint declares video_feat streams (clip 5 + tef 2) but the '
            'config declares (slowfast 5 + tef 2)') in str(err.value)


@pytest.mark.parametrize('streams,match', [
    ([], 'streams is empty'),
    ([dict(name='a')], r'must be dict\(name=str, dim=int\)'),
    ([dict(name='a', dim=0)], 'positive int'),
    ([dict(name='a,b', dim=3)], "without ','"),
    ([dict(name='a', dim=3), dict(name='a', dim=2)], 'duplicate'),
])
def test_bad_stream_configs(streams, match):
    with pytest.raises(ValueError, match=match):
        InputProjection(streams)


def test_num_layers_error():
    with pytest.raises(ValueError, match='num_layers must be >= 1'):
        InputProjection(STREAMS, num_layers=0)
