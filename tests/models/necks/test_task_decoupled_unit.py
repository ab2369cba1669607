# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.necks import (CNNExpert, IdentityExpert, TaskDecoupledUnit,
                                 TransformerExpert)

D, L = 8, 6
SHARED = dict(type='TransformerExpert', num_layers=1, num_heads=2, ffn_dim=16)


def _inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, L, D, generator=g)
    mask = torch.tensor([[1., 1., 1., 1., 0., 0.], [1.] * L])
    return x, mask, torch.randn(2, L, D, generator=g)


def test_eq1_product_of_task_and_shared_expert():
    torch.manual_seed(0)
    tdu = TaskDecoupledUnit(D, shared_expert=SHARED).eval()
    assert isinstance(tdu.mr_expert, CNNExpert)
    assert isinstance(tdu.hd_expert, IdentityExpert)
    assert isinstance(tdu.shared_expert, TransformerExpert)
    x, mask, pos = _inputs()
    out = tdu(x, mask, pos)
    m_mr, m_hd = tdu.mr_mapper(x), tdu.hd_mapper(x)
    s = tdu.shared_expert  # one module for both streams
    torch.testing.assert_close(
        out['mr'],
        tdu.mr_expert(m_mr, mask, pos) * s(m_mr, mask, pos))
    torch.testing.assert_close(out['hd'], m_hd * s(m_hd, mask, pos))
    assert list(tdu(x, mask, pos, ('hd', ))) == ['hd']


def test_forward_streams_batches_shared_expert():
    torch.manual_seed(0)
    tdu = TaskDecoupledUnit(D, shared_expert=SHARED).eval()
    x, mask, pos = _inputs()
    x3 = torch.cat([x, x.flip(0)])
    m3, p3 = torch.cat([mask, mask.flip(0)]), torch.cat([pos, pos.flip(0)])
    out = tdu.forward_streams({'mr': (x, mask, pos), 'hd': (x3, m3, p3)})
    assert out['mr'].shape == (2, L, D) and out['hd'].shape == (4, L, D)
    torch.testing.assert_close(
        out['mr'], tdu(x, mask, pos, ('mr', ))['mr'], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(
        out['hd'], tdu(x3, m3, p3, ('hd', ))['hd'], atol=1e-6, rtol=1e-5)


def test_init_rule_for_channel_norm():
    default = TaskDecoupledUnit(D, shared_expert=SHARED)
    assert torch.equal(default.mr_expert.norm.weight, torch.ones(1, D, 1))
    official = TaskDecoupledUnit(D, shared_expert=SHARED, official_compat=True)
    # xavier on (1, D, 1): bound sqrt(6 / (D + 1))
    w = official.mr_expert.norm.weight
    assert not torch.equal(w, torch.ones(1, D, 1))
    assert w.abs().max() <= (6 / (D + 1))**0.5
    assert official.mr_expert.official_compat is True
    assert official.shared_expert.pool.official_compat is True


def test_expert_flag_can_be_overridden():
    tdu = TaskDecoupledUnit(
        D,
        shared_expert=SHARED,
        mr_expert=dict(type='CNNExpert', official_compat=False),
        official_compat=True)
    assert tdu.mr_expert.official_compat is False
    assert tdu.shared_expert.pool.official_compat is True


@pytest.mark.parametrize('expert', ['LinearExpert', 'TransformerExpert'])
def test_other_experts(expert):
    cfg = dict(type=expert)
    if expert == 'TransformerExpert':
        cfg.update(num_layers=1, num_heads=2, ffn_dim=16, pool=None)
    tdu = TaskDecoupledUnit(
        D, shared_expert=SHARED, mr_expert=cfg, hd_expert=cfg)
    x, mask, pos = _inputs()
    out = tdu(x, mask, pos)
    assert out['mr'].shape == out['hd'].shape == (2, L, D)


def test_errors():
    with pytest.raises(ValueError) as err:
        TaskDecoupledUnit(D, shared_expert=SHARED, mr_expert=dict(type='GRU'))
    assert str(err.value) == (
        "TaskDecoupledUnit: unknown mr_expert type 'GRU'; valid types: "
        'IdentityExpert, LinearExpert, CNNExpert, TransformerExpert')
    with pytest.raises(ValueError, match="config dict with a 'type'"):
        TaskDecoupledUnit(D, shared_expert='TransformerExpert')
    tdu = TaskDecoupledUnit(D, shared_expert=SHARED)
    x, mask, pos = _inputs()
    with pytest.raises(ValueError, match="unknown task 'xx'"):
        tdu(x, mask, pos, ('xx', ))


def test_registered_non_expert_is_a_config_error():
    """Once: an ``__init__`` TypeError from the non-expert's constructor."""
    from mmmrhd.models.necks import BaseExpert
    from mmmrhd.registry import MODELS
    from mmmrhd.utils.errors import ConfigError
    valid = ('IdentityExpert, LinearExpert, CNNExpert, TransformerExpert')
    for role in ('shared', 'mr', 'hd'):
        with pytest.raises(ConfigError) as err:
            TaskDecoupledUnit(D, **{f'{role}_expert': dict(
                type='TemporalMaxPool', kernel_size=3)})
        assert str(err.value) == (
            f"TaskDecoupledUnit: {role}_expert type 'TemporalMaxPool' is "
            'registered but is not an expert (a subclass of BaseExpert); '
            f'valid types: {valid}')
    with pytest.raises(ConfigError, match="'TaskDecoupledUnit' is "
                       'registered but is not an expert'):
        TaskDecoupledUnit(D, shared_expert=SHARED,
                          mr_expert=dict(type=TaskDecoupledUnit))

    # A user's expert registers as a subclass and is then listed and built.
    @MODELS.register_module(force=True)
    class ToyTestExpert(BaseExpert):

        def __init__(self, embed_dim=256, official_compat=False):
            super().__init__()
            self.embed_dim = embed_dim

        def forward(self, x, mask, pos):
            return 2 * x

    try:
        tdu = TaskDecoupledUnit(D, shared_expert=SHARED,
                                hd_expert=dict(type='ToyTestExpert'))
        assert tdu.hd_expert.embed_dim == D
        with pytest.raises(ConfigError, match=f'valid types: {valid}, '
                           'ToyTestExpert$'):
            TaskDecoupledUnit(D, shared_expert=SHARED,
                              mr_expert=dict(type='SetCriterion'))
    finally:
        MODELS.module_dict.pop('ToyTestExpert')
