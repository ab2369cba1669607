# Copyright (c) mmmrhd contributors. All rights reserved.
"""Caffe2 .pkl loading: name grammar, round trip, strict refusals, and the
restricted unpickler."""
import os
import pickle

import numpy as np
import pytest
import torch

from mmmrhd.models.backbones import (SlowFastR50, caffe2_to_pytorch_name,
                                     load_caffe2_slowfast,
                                     pytorch_to_caffe2_name,
                                     read_caffe2_blobs, save_caffe2_blobs)
from mmmrhd.models.extractors import load_backbone_weights
from mmmrhd.utils.errors import CheckpointError


def _tiny(seed):
    torch.manual_seed(seed)
    model = SlowFastR50(width_per_group=8, num_blocks=(1, 2, 1, 1)).eval()
    for name, buf in model.named_buffers():
        if name.endswith('running_var'):
            buf.uniform_(0.5, 1.5)
        elif name.endswith('running_mean'):
            buf.normal_()
    return model


# Caffe2 blob -> PySlowFast name (checked against PySlowFast's
# c2_model_loading.py table for all 550 SLOWFAST_8x8_R50 tensors).
NAMES = {
    'conv1_w': 's1.pathway0_stem.conv.weight',
    't_conv1_w': 's1.pathway1_stem.conv.weight',
    'res_conv1_bn_riv': 's1.pathway0_stem.bn.running_var',
    't_res_conv1_bn_s': 's1.pathway1_stem.bn.weight',
    'res2_0_branch1_w': 's2.pathway0_res0.branch1.weight',
    'res2_0_branch1_bn_rm': 's2.pathway0_res0.branch1_bn.running_mean',
    't_res3_1_branch2b_bn_s': 's3.pathway1_res1.branch2.b_bn.weight',
    'res5_2_branch2c_w': 's5.pathway0_res2.branch2.c.weight',
    't_pool1_subsample_w': 's1_fuse.conv_f2s.weight',
    't_pool1_subsample_bn_rm': 's1_fuse.bn.running_mean',
    't_res4_5_branch2c_bn_subsample_bn_b': 's4_fuse.bn.bias',
    't_res2_2_branch2c_bn_subsample_w': 's2_fuse.conv_f2s.weight',
}


def test_name_grammar():
    for c2, pt in NAMES.items():
        assert caffe2_to_pytorch_name(c2) == pt
    for c2, pt in NAMES.items():
        if 'subsample' not in c2:
            assert pytorch_to_caffe2_name(pt) == c2
    for bad in ('foo_w', 'res2_0_branch3a_w', 'res2_0_branch2a_bn_x',
                'pool1_subsample_w'):
        assert caffe2_to_pytorch_name(bad) is None


def test_round_trip(tmp_path):
    src, dst = _tiny(0), _tiny(1)
    path = str(tmp_path / 'sf.pkl')
    extra = {
        'pred_w': np.zeros((400, 288), np.float32),
        'pred_b': np.zeros(400, np.float32),
        'res2_0_branch1_w_momentum': np.zeros((1, ), np.float32),
        'lr': np.ones(1, np.float32),
        'model_iter': np.array([1000]),
    }
    save_caffe2_blobs(src, path, extra)
    training, classifier = load_caffe2_slowfast(dst, path)
    assert sorted(classifier) == ['pred_b', 'pred_w']
    assert sorted(training) == ['lr', 'model_iter',
                                'res2_0_branch1_w_momentum']
    for k, v in src.state_dict().items():
        assert torch.equal(v, dst.state_dict()[k]), k
    x = torch.randn(1, 3, 32, 64, 64)
    inputs = [x[:, :, torch.linspace(0, 31, 8).long()], x]
    with torch.no_grad():
        assert torch.equal(src(inputs), dst(inputs))
    # through the generic weight loader (by extension)
    load_backbone_weights(_tiny(2), path)


def _blobs(tmp_path, edit):
    path = str(tmp_path / 'src.pkl')
    save_caffe2_blobs(_tiny(0), path)
    with open(path, 'rb') as f:
        data = pickle.load(f)
    edit(data['blobs'])
    out = str(tmp_path / 'edited.pkl')
    with open(out, 'wb') as f:
        pickle.dump(data, f, protocol=2)
    return out


def test_missing_extra_and_misshaped_blobs_are_refused(tmp_path):
    path = _blobs(tmp_path, lambda b: b.pop('t_res3_0_branch2a_w'))
    with pytest.raises(CheckpointError,
                       match='1 model tensor.*missing.*s3.pathway1_res0'
                       '.branch2.a.weight'):
        load_caffe2_slowfast(_tiny(1), path)
    path = _blobs(tmp_path, lambda b: b.update(
        res9_0_branch2a_w=np.zeros(3, np.float32)))
    with pytest.raises(CheckpointError, match='does not have: res9_0'):
        load_caffe2_slowfast(_tiny(1), path)
    path = _blobs(tmp_path, lambda b: b.update(
        unknown_blob=np.zeros(3, np.float32)))
    with pytest.raises(CheckpointError, match='unknown_blob'):
        load_caffe2_slowfast(_tiny(1), path)
    path = _blobs(tmp_path, lambda b: b.update(
        conv1_w=np.zeros((64, 3, 1, 7, 7), np.float32)))
    with pytest.raises(CheckpointError,
                       match='wrong shape: conv1_w \\(64, 3, 1, 7, 7\\) vs '
                       's1.pathway0_stem.conv.weight \\(8, 3, 1, 7, 7\\)'):
        load_caffe2_slowfast(_tiny(1), path)
    # a full-width checkpoint into the tiny model: every problem listed
    full = str(tmp_path / 'full.pkl')
    save_caffe2_blobs(SlowFastR50(), full)
    with pytest.raises(CheckpointError, match='wrong shape'):
        load_caffe2_slowfast(_tiny(1), full)


class _Evil:

    def __reduce__(self):
        return (os.system, ('touch pwned',))


def test_restricted_unpickler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'blobs': {'conv1_w': _Evil()}},
                                  protocol=2))
    with pytest.raises(CheckpointError,
                       match='refusing to unpickle (posix|nt).system'):
        read_caffe2_blobs(str(path))
    assert not (tmp_path / 'pwned').exists()
    path.write_bytes(pickle.dumps({'blobs': {'conv1_w': [1.0]}}))
    with pytest.raises(CheckpointError, match="blob 'conv1_w' is not"):
        read_caffe2_blobs(str(path))
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(CheckpointError, match='expected a dict'):
        read_caffe2_blobs(str(path))
    path.write_bytes(b'not a pickle')
    with pytest.raises(CheckpointError, match='cannot read'):
        read_caffe2_blobs(str(path))
    with pytest.raises(CheckpointError, match='not found'):
        read_caffe2_blobs(str(tmp_path / 'missing.pkl'))


def test_python2_numpy_core_pickle(tmp_path):
    """Caffe2 files were written by Python 2 with numpy 1
    (``numpy.core.multiarray._reconstruct``, latin1 byte strings)."""
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    raw = pickle.dumps({'blobs': {'conv1_w': array}}, protocol=2)
    raw = raw.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
    assert b'numpy.core.multiarray' in raw
    path = tmp_path / 'py2.pkl'
    path.write_bytes(raw)
    blobs = read_caffe2_blobs(str(path))
    assert np.array_equal(blobs['conv1_w'], array)


def test_state_dict_weights(tmp_path):
    src = _tiny(0)
    path = str(tmp_path / 'sf.pth')
    torch.save(src.state_dict(), path)
    dst = _tiny(1)
    load_backbone_weights(dst, path)
    assert torch.equal(dst.s1_fuse.bn.running_mean,
                       src.s1_fuse.bn.running_mean)
    torch.save({'state_dict': {'x': torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match='do not fit SlowFastR50'):
        load_backbone_weights(dst, path)
    with pytest.raises(CheckpointError, match='not found'):
        load_backbone_weights(dst, str(tmp_path / 'nope.pth'))
