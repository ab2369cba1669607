# Copyright (c) mmmrhd contributors. All rights reserved.
"""SharedExpertNeck: X_mr = X_hd = S(Z) (TaskWeave Table 4, row 1)."""
import pytest
import torch

from mmmrhd.models.necks import SharedExpertNeck


def test_both_tasks_read_the_shared_expert():
    torch.manual_seed(0)
    neck = SharedExpertNeck(
        embed_dim=16,
        shared_expert=dict(
            type='TransformerExpert', num_layers=1, num_heads=2,
            ffn_dim=32, dropout=0.0)).eval()
    x, pos = torch.randn(3, 7, 16), torch.randn(3, 7, 16)
    mask = torch.ones(3, 7)
    mask[1, 5:] = 0
    out = neck(x, mask, pos)
    expected = neck.shared_expert(x, mask, pos)
    assert set(out) == {'mr', 'hd'}
    torch.testing.assert_close(out['mr'], expected)
    torch.testing.assert_close(out['hd'], expected)
    # streams of different batches in one call equal separate calls
    x2 = torch.randn(2, 7, 16)
    both = neck.forward_streams(
        dict(mr=(x, mask, pos), hd=(x2, mask[:2], pos[:2])))
    torch.testing.assert_close(both['hd'],
                               neck.shared_expert(x2, mask[:2], pos[:2]))
    assert neck(x, mask, pos, tasks=('hd', )).keys() == {'hd'}


def test_errors():
    neck = SharedExpertNeck(embed_dim=8, shared_expert=dict(
        type='IdentityExpert'))
    x = torch.zeros(1, 2, 8)
    with pytest.raises(ValueError, match="unknown task 'xx'"):
        neck.forward_streams(dict(xx=(x, torch.ones(1, 2), x)))
    with pytest.raises(ValueError, match='unknown shared_expert type'):
        SharedExpertNeck(shared_expert=dict(type='NoSuchExpert'))
