# Copyright (c) mmmrhd contributors. All rights reserved.
"""PReLU with a vectorised CPU backward for the single-slope case."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable


class _ScalarPReLU(torch.autograd.Function):
    """``F.prelu`` with one slope; the backward uses vectorised kernels.

    PyTorch's CPU PReLU backward is a scalar loop with two full-size outputs
    (about 5x the forward on the FFN activations). Same values: ``grad_x =
    grad`` where ``x > 0`` else ``a * grad`` (ATen's
    ``leaky_relu_backward``, the PReLU rule with a scalar slope) and
    ``grad_a = sum(grad * min(x, 0))``, summed in another order.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return F.prelu(x, weight)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[1]:
            # sum(grad * min(x, 0)) as one BLAS dot (no product tensor)
            grad_w = torch.dot(x.clamp(max=0).reshape(-1),
                               grad.reshape(-1)).reshape(weight.shape)
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.leaky_relu_backward(
                grad, x, weight.item(), False)
        return grad_x, grad_w


class PReLU(nn.PReLU):
    """``nn.PReLU`` drop-in (same parameter) with a faster CPU backward.

    With one slope parameter on a float32 CPU tensor and autograd on, the
    backward runs through :class:`_ScalarPReLU`; otherwise this is
    ``nn.PReLU``. The forward is always ``F.prelu``.
    """

    def forward(self, input: Tensor) -> Tensor:
        """``max(0, x) + a * min(0, x)``, same shape as ``input``."""
        fast = (
            self.weight.numel() == 1 and input.device.type == 'cpu'
            and input.dtype == torch.float32 and torch.is_grad_enabled()
            and (input.requires_grad or self.weight.requires_grad))
        if fast:
            return _ScalarPReLU.apply(input, self.weight)
        return F.prelu(input, self.weight)
