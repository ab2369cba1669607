# Copyright (c) mmmrhd contributors. All rights reserved.
"""SlowFast ResNet-50 feature backbone with PySlowFast parameter names.

The architecture and every parameter name follow PySlowFast's
``SlowFast`` model (``slowfast/models/video_model_builder.py``,
``stem_helper.py``, ``resnet_helper.py``) for ``SLOWFAST_8x8_R50``, so the
Caffe2 Kinetics-400 ``.pkl`` loads through PySlowFast's name table
(:mod:`.slowfast_loader`). The head is the HERO feature head: average-pool
each pathway over (T, H, W) and concatenate slow ‖ fast (2048 + 256 = 2304
at width 64); no classifier.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS

__all__ = ['SlowFastR50']

# Temporal kernel sizes per stage (stem, res2..res5) and pathway (slow,
# fast): PySlowFast ``_TEMPORAL_KERNEL_BASIS['slowfast']``.
_TEMPORAL_KERNELS = ((1, 5), (1, 3), (1, 3), (3, 3), (3, 3))
# PySlowFast BN defaults (``BN.EPS`` 1e-5, ``BN.MOMENTUM`` 0.1).
_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1


def _bn(channels: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class VideoStem(nn.Module):
    """``conv -> bn -> relu -> maxpool`` (``ResNetBasicStem``)."""

    def __init__(self, dim_in: int, dim_out: int, temporal_kernel: int):
        super().__init__()
        self.conv = nn.Conv3d(
            dim_in,
            dim_out, (temporal_kernel, 7, 7),
            stride=(1, 2, 2),
            padding=(temporal_kernel // 2, 3, 3),
            bias=False)
        self.bn = _bn(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, T, H, W) -> (B, dim_out, T, H/4, W/4)``."""
        x = F.relu(self.bn(self.conv(x)), inplace=True)
        return F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))


class BottleneckTransform(nn.Module):
    """``a`` (Tx1x1) -> ``b`` (1x3x3, strided) -> ``c`` (1x1x1) with BNs
    (PySlowFast ``BottleneckTransform``, ``STRIDE_1X1=False``)."""

    def __init__(self, dim_in: int, dim_out: int, dim_inner: int,
                 temporal_kernel: int, stride: int) -> None:
        super().__init__()
        self.a = nn.Conv3d(
            dim_in,
            dim_inner, (temporal_kernel, 1, 1),
            padding=(temporal_kernel // 2, 0, 0),
            bias=False)
        self.a_bn = _bn(dim_inner)
        self.b = nn.Conv3d(
            dim_inner,
            dim_inner, (1, 3, 3),
            stride=(1, stride, stride),
            padding=(0, 1, 1),
            bias=False)
        self.b_bn = _bn(dim_inner)
        self.c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.c_bn = _bn(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.a_bn(self.a(x)), inplace=True)
        x = F.relu(self.b_bn(self.b(x)), inplace=True)
        return self.c_bn(self.c(x))


class ResBlock(nn.Module):
    """Residual bottleneck block with a projection shortcut (``branch1``)
    when the width or stride changes (PySlowFast ``ResBlock``)."""

    def __init__(self, dim_in: int, dim_out: int, dim_inner: int,
                 temporal_kernel: int, stride: int) -> None:
        super().__init__()
        if dim_in != dim_out or stride != 1:
            self.branch1 = nn.Conv3d(
                dim_in,
                dim_out,
                1,
                stride=(1, stride, stride),
                bias=False)
            self.branch1_bn = _bn(dim_out)
        self.branch2 = BottleneckTransform(dim_in, dim_out, dim_inner,
                                           temporal_kernel, stride)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = (
            self.branch1_bn(self.branch1(x))
            if hasattr(self, 'branch1') else x)
        return F.relu(shortcut + self.branch2(x), inplace=True)


class FuseFastToSlow(nn.Module):
    """Time-strided conv from fast to slow, concatenated to the slow
    features (PySlowFast ``FuseFastToSlow``)."""

    def __init__(self, dim_in: int, ratio: int, kernel: int,
                 alpha: int) -> None:
        super().__init__()
        self.conv_f2s = nn.Conv3d(
            dim_in,
            dim_in * ratio, (kernel, 1, 1),
            stride=(alpha, 1, 1),
            padding=(kernel // 2, 0, 0),
            bias=False)
        self.bn = _bn(dim_in * ratio)

    def forward(self, x: List[Tensor]) -> List[Tensor]:
        slow, fast = x
        fuse = F.relu(self.bn(self.conv_f2s(fast)), inplace=True)
        return [torch.cat([slow, fuse], 1), fast]


class Pathways(nn.Module):
    """Apply ``pathway{i}_<name>`` modules to each pathway (the container
    PySlowFast's ``ResStage``/``VideoModelStem`` names imply)."""

    def __init__(self, name: str, modules: Sequence[Sequence[nn.Module]]):
        super().__init__()
        self.depth = len(modules[0])
        self.name = name
        for p, blocks in enumerate(modules):
            for i, block in enumerate(blocks):
                suffix = f'{i}' if name == 'res' else ''
                self.add_module(f'pathway{p}_{name}{suffix}', block)
        self.num_pathways = len(modules)

    def forward(self, x: List[Tensor]) -> List[Tensor]:
        out = []
        for p, feat in enumerate(x):
            if self.name == 'res':
                for i in range(self.depth):
                    feat = getattr(self, f'pathway{p}_res{i}')(feat)
            else:
                feat = getattr(self, f'pathway{p}_{self.name}')(feat)
            out.append(feat)
        return out


@MODELS.register_module()
class SlowFastR50(nn.Module):
    """SlowFast 8x8 ResNet-50 returning HERO's 2304-d clip features.

    Parameter names equal PySlowFast's (``s1.pathway0_stem.conv.weight``,
    ``s2.pathway1_res0.branch2.a_bn.running_mean``, ``s3_fuse.conv_f2s``,
    ...). Defaults are ``SLOWFAST_8x8_R50`` (HERO
    ``configs/Kinetics/c2/extract_SLOWFAST_8x8_R50.yaml``); the width and
    block counts can be shrunk for tests.

    Args:
        width_per_group (int): ``RESNET.WIDTH_PER_GROUP`` (64).
        alpha (int): Fast/slow frame-rate ratio (4).
        beta_inv (int): Slow/fast channel ratio (8).
        fusion_ratio (int): ``FUSION_CONV_CHANNEL_RATIO`` (2).
        fusion_kernel (int): ``FUSION_KERNEL_SZ`` (7).
        num_blocks (Sequence[int]): Blocks of res2..res5 ((3, 4, 6, 3)).
        in_channels (int): Input channels (3).
    """

    def __init__(self,
                 width_per_group: int = 64,
                 alpha: int = 4,
                 beta_inv: int = 8,
                 fusion_ratio: int = 2,
                 fusion_kernel: int = 7,
                 num_blocks: Sequence[int] = (3, 4, 6, 3),
                 in_channels: int = 3) -> None:
        super().__init__()
        if len(num_blocks) != 4 or min(num_blocks) < 1:
            raise ValueError(f'num_blocks must be 4 positive ints, got '
                             f'{num_blocks}')
        if width_per_group % beta_inv:
            raise ValueError(f'width_per_group {width_per_group} must be a '
                             f'multiple of beta_inv {beta_inv}')
        self.alpha = alpha
        w, b, r = width_per_group, beta_inv, fusion_ratio
        self.s1 = Pathways('stem', [[VideoStem(in_channels, w, k)]
                                    for k, w in zip(_TEMPORAL_KERNELS[0],
                                                    (w, w // b))])
        self.s1_fuse = FuseFastToSlow(w // b, r, fusion_kernel, alpha)
        dim_in = [w + w // b * r, w // b]
        for stage, blocks in enumerate(num_blocks, start=2):
            mult = 2**(stage - 2)
            dim_out = [4 * w * mult, 4 * w * mult // b]
            dim_inner = [w * mult, w * mult // b]
            stride = 1 if stage == 2 else 2
            paths = []
            for p in range(2):
                kernel = _TEMPORAL_KERNELS[stage - 1][p]
                paths.append([
                    ResBlock(dim_in[p] if i == 0 else dim_out[p], dim_out[p],
                             dim_inner[p], kernel, stride if i == 0 else 1)
                    for i in range(blocks)
                ])
            self.add_module(f's{stage}', Pathways('res', paths))
            if stage < 5:
                self.add_module(
                    f's{stage}_fuse',
                    FuseFastToSlow(dim_out[1], r, fusion_kernel, alpha))
                dim_in = [dim_out[0] + dim_out[1] * r, dim_out[1]]
            else:
                self.out_dims: Tuple[int, int] = (dim_out[0], dim_out[1])
        self.out_dim = sum(self.out_dims)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Clip features.

        Args:
            inputs (Sequence[Tensor]): ``[slow (B, 3, T/alpha, H, W), fast
                (B, 3, T, H, W)]``, normalised.

        Returns:
            Tensor: ``(B, out_dim)``, slow ‖ fast average-pooled features
            (HERO ``ResNetBasicHead`` without projection; the pooling
            kernel is the whole (T, H, W) map, (8, 7, 7) and (32, 7, 7) for
            32 x 224 x 224 inputs; PySlowFast's identity ``pathway*_pool``
            between res2 and res3 is omitted).
        """
        if len(inputs) != 2:
            raise ValueError(f'SlowFastR50 takes [slow, fast] inputs, got '
                             f'{len(inputs)} tensors')
        slow, fast = inputs
        if fast.shape[2] != slow.shape[2] * self.alpha:
            raise ValueError(
                f'fast pathway has {fast.shape[2]} frames, expected alpha '
                f'({self.alpha}) x slow ({slow.shape[2]})')
        x = self.s1([slow, fast])
        x = self.s1_fuse(x)
        x = self.s2(x)
        x = self.s2_fuse(x)
        x = self.s3(x)
        x = self.s3_fuse(x)
        x = self.s4(x)
        x = self.s4_fuse(x)
        x = self.s5(x)
        pooled = [F.avg_pool3d(f, f.shape[2:]).flatten(1) for f in x]
        return torch.cat(pooled, 1)
