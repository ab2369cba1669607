# Copyright (c) mmmrhd contributors. All rights reserved.
import math

import pytest
import torch

from mmmrhd.models.losses import SumLoss, UncertaintyJointLoss, WeightedSumLoss
from mmmrhd.registry import MODELS


def _losses():
    values = dict(
        loss_span=1.0,
        loss_giou=2.0,
        loss_label=3.0,
        class_error=50.0,
        loss_saliency=5.0,
        saliency_hinge=0.7,
        loss_span_0=0.5,
        loss_giou_0=0.25,
        loss_label_0=0.125,
        class_error_0=100.0)
    return {
        k: torch.tensor(v, requires_grad=k.startswith('loss'))
        for k, v in values.items()
    }


L_MR = 1.0 + 2.0 + 3.0 + 0.5 + 0.25 + 0.125  # raw, final + aux layer
L_HD = 5.0


def test_uncertainty_at_init_is_2hd_plus_mr():
    joint = MODELS.build(dict(type='UncertaintyJointLoss'))
    total, log_vars = joint(_losses())
    assert total.shape == (1, )
    assert total.item() == pytest.approx(2 * L_HD + L_MR)
    assert list(log_vars)[0] == 'loss'
    assert log_vars['loss_mr'].item() == pytest.approx(L_MR)
    assert log_vars['loss_hd'].item() == pytest.approx(L_HD)
    assert log_vars['hd_log_var'].item() == 0.0
    assert log_vars['mr_log_var'].item() == 0.0
    assert log_vars['class_error'].item() == 50.0
    assert all(not v.requires_grad for v in log_vars.values())


def test_uncertainty_values_and_gradients():
    joint = UncertaintyJointLoss()
    assert [n for n, _ in joint.named_parameters()] == [
        'hd_log_var', 'mr_log_var'
    ]
    with torch.no_grad():
        joint.hd_log_var.fill_(math.log(2.0))
        joint.mr_log_var.fill_(math.log(4.0))
    losses = _losses()
    total, _ = joint(losses)
    # 2 * 5 / 2 + 6.875 / 4 + log 2 + log 4
    expected = 5.0 + L_MR / 4 + 3 * math.log(2.0)
    assert total.item() == pytest.approx(expected, abs=1e-5)
    total.backward()
    # d/ds_hd = -2 L_hd e^-s_hd + 1; d/ds_mr = -L_mr e^-s_mr + 1.
    assert joint.hd_log_var.grad.item() == pytest.approx(-4.0, abs=1e-5)
    assert joint.mr_log_var.grad.item() == pytest.approx(1 - L_MR / 4,
                                                         abs=1e-5)
    assert losses['loss_span'].grad.item() == pytest.approx(0.25)
    assert losses['loss_giou_0'].grad.item() == pytest.approx(0.25)
    assert losses['loss_saliency'].grad.item() == pytest.approx(1.0)


def test_uncertainty_factors_and_init():
    joint = UncertaintyJointLoss(hd_factor=1.0, mr_factor=3.0, init=1.0)
    total, _ = joint(_losses())
    expected = L_HD * math.exp(-1) + 3 * L_MR * math.exp(-1) + 2.0
    assert total.item() == pytest.approx(expected, abs=1e-5)


def test_sum_loss():
    total, log_vars = MODELS.build(dict(type='SumLoss'))(_losses())
    assert total.item() == pytest.approx(L_MR + L_HD)
    assert log_vars['loss_mr'].item() == pytest.approx(L_MR)
    # Without aux the aux keys are unknown losses -> error, not dropped.
    with pytest.raises(KeyError, match=r"\['loss_span_0', 'loss_giou_0', "
                       r"'loss_label_0'\] belong to no group"):
        SumLoss(aux=False)(_losses())
    no_aux = {k: v for k, v in _losses().items() if not k[-1].isdigit()}
    total, _ = SumLoss(aux=False)(no_aux)
    assert total.item() == pytest.approx(6.0 + L_HD)


def test_weighted_sum_official_weights():
    total, log_vars = MODELS.build(dict(type='WeightedSumLoss'))(_losses())
    # 10*1 + 1*2 + 4*3 + 1*5 + aux copies 10*0.5 + 1*0.25 + 4*0.125
    assert total.item() == pytest.approx(34.75)
    assert log_vars['loss_span'].item() == 1.0  # logged unweighted
    assert log_vars['loss'].item() == pytest.approx(34.75)
    custom = WeightedSumLoss(
        weights=dict(loss_span=1, loss_giou=1, loss_label=1,
                     loss_saliency=2, loss_contrastive_align=0.5))
    losses = _losses()
    losses['loss_contrastive_align'] = torch.tensor(4.0)
    losses['loss_contrastive_align_0'] = torch.tensor(2.0)
    losses['class_error'] = torch.tensor(0.0)
    total, _ = custom(losses)
    assert total.item() == pytest.approx(L_MR + 2 * L_HD + 0.5 * 6.0)


def test_missing_and_unknown_keys():
    losses = _losses()
    without_hd = {k: v for k, v in losses.items() if k != 'loss_saliency'}
    for joint in (UncertaintyJointLoss(), SumLoss(), WeightedSumLoss()):
        name = joint.__class__.__name__
        with pytest.raises(KeyError, match=rf"{name}: expected loss key\(s\) "
                           r"\['loss_saliency'\] are missing; present: "):
            joint(without_hd)
        with pytest.raises(KeyError, match=r"\['loss_foo'\] belong to no "
                           'group'):
            joint(dict(losses, loss_foo=torch.tensor(1.0)))
        partial_aux = {k: v for k, v in losses.items() if k != 'loss_giou_0'}
        with pytest.raises(KeyError, match=r"auxiliary layer 0 lacks "
                           r"\['loss_giou_0'\]"):
            joint(partial_aux)
        with pytest.raises(TypeError, match=r"losses\['loss_giou'\] must be "
                           'a Tensor, got float'):
            joint(dict(losses, loss_giou=2.0))
    # No auxiliary copy of the saliency loss (official weight dict).
    with pytest.raises(KeyError, match=r"\['loss_saliency_0'\] belong to no "
                       'group'):
        WeightedSumLoss()(dict(losses, loss_saliency_0=torch.tensor(1.0)))
    with pytest.raises(ValueError, match='weights is empty'):
        WeightedSumLoss(weights={})
    for cls in (UncertaintyJointLoss, SumLoss):
        with pytest.raises(ValueError, match='must be non-empty'):
            cls(hd_keys=())
    # MR-only training (no saliency labels): a weighted sum of the MR keys.
    mr_only = {k: v for k, v in losses.items() if 'saliency' not in k}
    total, _ = WeightedSumLoss(
        weights=dict(loss_span=10, loss_giou=1, loss_label=4))(mr_only)
    assert total.item() == pytest.approx(34.75 - 5.0)


def test_drives_an_mmengine_train_step():
    """A model's ``parse_losses`` can delegate to the joint loss; the
    ``(1,)`` total back-propagates and the log-variances are trained."""
    from mmengine.model import BaseModel
    from mmengine.optim import OptimWrapper

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(1.0))
            self.joint_loss = UncertaintyJointLoss()

        def forward(self, inputs, data_samples=None, mode='loss'):
            x = self.w * inputs
            return dict(loss_span=x, loss_giou=x, loss_label=x,
                        class_error=torch.tensor(10.0), loss_saliency=2 * x)

        def parse_losses(self, losses):
            return self.joint_loss(losses)

    model = Toy()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(dict(inputs=torch.tensor(1.0)), optim)
    # total = 2 * 2 + 3 at w = 1, s = 0; d/ds_hd = -4 + 1, d/ds_mr = -3 + 1.
    assert float(log_vars['loss']) == pytest.approx(7.0)
    assert model.joint_loss.hd_log_var.item() == pytest.approx(0.3)
    assert model.joint_loss.mr_log_var.item() == pytest.approx(0.2)
    assert all(v.numel() == 1 for v in log_vars.values())
