# Copyright (c) mmmrhd contributors. All rights reserved.
"""SlowFastR50: PySlowFast names/shapes, HERO head, pytorchvideo parity."""
import pytest
import torch

from mmmrhd.models.backbones import SlowFastR50
from mmmrhd.registry import MODELS


def _randomize(model, seed=0):
    """Random weights *and* BN statistics (eval mode uses them)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in model.state_dict().items():
        if k.endswith('num_batches_tracked'):
            state[k] = v
        elif k.endswith('running_var'):
            state[k] = torch.rand(v.shape, generator=g) + 0.5
        elif k.endswith(('bn.weight', 'bn.bias', 'running_mean')):
            state[k] = torch.randn(v.shape, generator=g) * 0.2 + (
                1.0 if k.endswith('weight') else 0.0)
        else:
            state[k] = torch.randn(v.shape, generator=g) * 0.05
    model.load_state_dict(state)
    return state


def _inputs(frames=32, size=64, alpha=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    fast = torch.randn(2, 3, frames, size, size, generator=g)
    slow = fast[:, :, torch.linspace(0, frames - 1, frames // alpha).long()]
    return [slow, fast]


def test_pyslowfast_names_and_shapes():
    model = MODELS.build(dict(type='SlowFastR50'))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # SLOWFAST_8x8_R50: slow width 64, fast 64/8, fusion 2x over 7 frames
    expected = {
        's1.pathway0_stem.conv.weight': (64, 3, 1, 7, 7),
        's1.pathway1_stem.conv.weight': (8, 3, 5, 7, 7),
        's1_fuse.conv_f2s.weight': (16, 8, 7, 1, 1),
        's2.pathway0_res0.branch1.weight': (256, 80, 1, 1, 1),
        's2.pathway0_res0.branch2.a.weight': (64, 80, 1, 1, 1),
        's2.pathway1_res0.branch2.a.weight': (8, 8, 3, 1, 1),
        's3.pathway0_res0.branch2.b.weight': (128, 128, 1, 3, 3),
        's4.pathway0_res0.branch2.a.weight': (256, 640, 3, 1, 1),
        's4.pathway0_res5.branch2.c_bn.running_var': (1024, ),
        's4_fuse.conv_f2s.weight': (256, 128, 7, 1, 1),
        's5.pathway0_res0.branch1.weight': (2048, 1280, 1, 1, 1),
        's5.pathway1_res2.branch2.c_bn.weight': (256, ),
    }
    for name, shape in expected.items():
        assert shapes[name] == shape, name
    assert 's5_fuse.conv_f2s.weight' not in shapes
    assert not any(k.startswith('head') for k in shapes)
    # pytorchvideo slowfast_r50 has 34,566,488 parameters, of which the
    # 2304 x 400 classifier is 922,000
    assert sum(p.numel() for p in model.parameters()) == 33_644_488
    assert model.out_dims == (2048, 256) and model.out_dim == 2304


def test_forward_shape_and_head_is_global_average():
    model = SlowFastR50(width_per_group=8, num_blocks=(1, 1, 1, 1)).eval()
    _randomize(model)
    inputs = _inputs()
    with torch.no_grad():
        feats = model(inputs)
        assert feats.shape == (2, 256 + 32)
        # the head is the mean over (T, H, W) of each pathway's res5 map
        x = model.s1(inputs)
        for stage in ('s1_fuse', 's2', 's2_fuse', 's3', 's3_fuse', 's4',
                      's4_fuse', 's5'):
            x = getattr(model, stage)(x)
        manual = torch.cat([x[0].mean((2, 3, 4)), x[1].mean((2, 3, 4))], 1)
    torch.testing.assert_close(feats, manual, rtol=1e-5, atol=1e-5)


def test_forward_errors():
    model = SlowFastR50(width_per_group=8, num_blocks=(1, 1, 1, 1))
    slow, fast = _inputs()
    with pytest.raises(ValueError, match='\\[slow, fast\\]'):
        model([fast])
    with pytest.raises(ValueError, match='alpha'):
        model([slow[:, :, :4], fast])
    with pytest.raises(ValueError, match='num_blocks'):
        SlowFastR50(num_blocks=(1, 1, 1))
    with pytest.raises(ValueError, match='multiple of beta_inv'):
        SlowFastR50(width_per_group=12)


def _pytorchvideo():
    try:
        from pytorchvideo.models.slowfast import create_slowfast
    except Exception as exc:  # noqa: BLE001 - any import failure
        pytest.skip(f'pytorchvideo (test oracle) not importable: {exc}')
    return create_slowfast


def test_parity_with_pytorchvideo_slowfast_r50():
    """Same random weights -> bitwise equal features (the oracle's
    PoolConcatPathway output, i.e. before its dropout/classifier)."""
    create_slowfast = _pytorchvideo()
    # 96 x 96 inputs (res5 maps 3 x 3) keep the test fast; the oracle's
    # fixed pooling kernels are set to match (defaults (8,7,7)/(32,7,7))
    ref = create_slowfast(
        model_num_class=400,
        head_pool_kernel_sizes=((8, 3, 3), (32, 3, 3))).eval()
    ours = SlowFastR50().eval()
    ref_keys = [
        k for k in ref.state_dict()
        if not k.endswith('num_batches_tracked') and not k.startswith(
            f'blocks.{len(ref.blocks) - 1}.')
    ]
    state = _randomize(ours)
    own_keys = [k for k in state if not k.endswith('num_batches_tracked')]
    assert len(ref_keys) == len(own_keys) == 550
    # both enumerate stem/stage blocks slow-then-fast, fusion last
    mapped = {r: state[o] for r, o in zip(ref_keys, own_keys)}
    ref.load_state_dict(mapped, strict=False)
    inputs = _inputs(size=96)
    with torch.no_grad():
        x = list(inputs)  # the oracle replaces list items in place
        for block in ref.blocks[:-1]:
            x = block(x)
        expected = x.flatten(1)
        got = ours(inputs)
    assert got.shape == expected.shape == (2, 2304)
    assert torch.equal(got, expected)
