# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.necks import (CNNExpert, IdentityExpert, LinearExpert,
                                 TransformerExpert)

D, L = 8, 6


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, L, D, generator=g)
    mask = torch.tensor([[1., 1., 1., 1., 0., 0.], [1.] * L])
    return x, mask, torch.randn(2, L, D, generator=g)


def test_identity_and_linear():
    x, mask, pos = _inputs()
    assert IdentityExpert(D)(x, mask, pos) is x
    lin = LinearExpert(D)
    torch.testing.assert_close(lin(x, mask, pos), lin.fc(x))


def test_cnn_official_is_constant_at_valid_clips_with_zero_grads():
    torch.manual_seed(0)
    expert = CNNExpert(D, official_compat=True)
    x, mask, pos = _inputs()
    x.requires_grad_(True)
    out = expert(x, mask, pos)
    # Inverted mask: conv output is 0 at valid clips, so LN(0) = bias and
    # the output is proj(bias) there (fixtures README quirk 12).
    const = expert.proj(expert.norm.bias).flatten()
    for b in range(2):
        for t in range(L):
            if mask[b, t]:
                torch.testing.assert_close(out[b, t], const)
    # Downstream only valid clips are used (padded memory is masked out).
    (out * mask[..., None]).sum().backward()
    assert expert.conv.weight.grad.abs().max() == 0
    assert expert.norm.weight.grad.abs().max() == 0
    assert expert.norm.bias.grad.abs().max() > 0


def test_cnn_default_masks_conv_input_and_output():
    torch.manual_seed(0)
    expert = CNNExpert(D)
    x, mask, pos = _inputs()
    out = expert(x, mask, pos)
    valid = mask[:, None, :]
    conv = expert.conv(x.transpose(1, 2) * valid) * valid
    expected = expert.proj(expert.norm(conv)).transpose(1, 2)
    torch.testing.assert_close(out, expected)
    # Padded garbage does not leak into valid clips.
    x2 = x.clone()
    x2[0, 4:] = 1e3
    torch.testing.assert_close(expert(x2, mask, pos)[0, :4], out[0, :4])
    out.sum().backward()
    assert expert.conv.weight.grad.abs().max() > 0


def test_cnn_kernel_error():
    with pytest.raises(ValueError, match='positive odd int'):
        CNNExpert(D, kernel_size=4)


def test_transformer_expert_pools_with_its_flag():
    torch.manual_seed(0)
    x, mask, pos = _inputs()
    expert = TransformerExpert(D, num_layers=1, num_heads=2, ffn_dim=16).eval()
    assert expert.pool.official_compat is False
    enc = expert.encoder(x, mask, pos)
    torch.testing.assert_close(expert(x, mask, pos), expert.pool(enc, mask))
    official = TransformerExpert(
        D, num_layers=1, num_heads=2, ffn_dim=16, official_compat=True)
    assert official.pool.official_compat is True
    plain = TransformerExpert(
        D, num_layers=1, num_heads=2, ffn_dim=16, pool=None).eval()
    assert plain.pool is None
    torch.testing.assert_close(
        plain(x, mask, pos), plain.encoder(x, mask, pos))
