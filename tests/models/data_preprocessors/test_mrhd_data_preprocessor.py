# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.data_preprocessors import MRHDDataPreprocessor


def test_casts_inputs_and_sample_tensors():
    pre = MRHDDataPreprocessor()
    ann = dict(qid=1, relevant_windows=[[0, 2]])
    data = dict(
        inputs=dict(
            video_feat=torch.ones(1, 2, 3, dtype=torch.float64),
            video_mask=torch.ones(1, 2),
            text_feat=torch.ones(1, 1, 4),
            text_mask=torch.ones(1, 1)),
        data_samples=[dict(qid=1, gt_spans=torch.zeros(1, 2), ann=ann)])
    out = pre(data)
    assert out['inputs']['video_feat'].dtype == torch.float32
    assert out['data_samples'][0]['ann'] is ann
    assert out['data_samples'][0]['qid'] == 1
    assert out['data_samples'][0]['gt_spans'].device == pre.device
    assert pre(dict(inputs=data['inputs']))['data_samples'] is None


def test_errors():
    pre = MRHDDataPreprocessor()
    with pytest.raises(KeyError, match="key 'inputs'"):
        pre(dict(x=1))
    with pytest.raises(KeyError, match=r"inputs lack \['text_mask'\]"):
        pre(
            dict(
                inputs=dict(
                    video_feat=torch.ones(1),
                    video_mask=torch.ones(1),
                    text_feat=torch.ones(1))))
