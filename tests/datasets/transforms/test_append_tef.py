# Copyright (c) mmmrhd contributors. All rights reserved.
import numpy as np
import torch

from mmmrhd.datasets.transforms import AppendTEF, temporal_endpoint_features


def test_tef_matches_the_official_torch_expression():
    for length in (1, 7, 64, 70, 75):
        # The official expression (TaskWeave start_end_dataset.py L98-99).
        st = torch.arange(0, length, 1.0) / length
        ed = st + 1.0 / length
        expected = torch.stack([st, ed], dim=1).numpy()
        out = temporal_endpoint_features(length)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, expected)


def test_tef_end_is_not_i_plus_one_over_length():
    # README quirk 8: 1 ulp apart from (i+1)/L at 21 of the 75 positions.
    ed = temporal_endpoint_features(75)[:, 1]
    exact = (np.arange(1, 76) / 75).astype(np.float32)
    assert int((ed != exact).sum()) == 21
    np.testing.assert_allclose(ed, exact, rtol=0, atol=1e-7)
    assert temporal_endpoint_features(4).tolist() == [[0.0, 0.25],
                                                      [0.25, 0.5],
                                                      [0.5, 0.75],
                                                      [0.75, 1.0]]


def test_append_tef_transform():
    feat = np.ones((4, 3), dtype=np.float32)
    out = AppendTEF()(dict(video_feat=feat))['video_feat']
    assert out.shape == (4, 5) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, :3], 1)
    np.testing.assert_array_equal(out[:, 3], [0, 0.25, 0.5, 0.75])
