# Copyright (c) mmmrhd contributors. All rights reserved.
"""Temporal max-pooling of clip features (TaskWeave)."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmmrhd.registry import MODELS


@MODELS.register_module()
class TemporalMaxPool(nn.Module):
    """Temporal ``MaxPool1d(kernel_size, 1, kernel_size // 2)``.

    TaskWeave pools after the fusion and after the shared expert ("to
    eliminate the rank loss problem in the attention", paper §3.1; official
    ``temporalmaxer = nn.MaxPool1d(5, 1, 2)``, ``transformer.py`` L79).

    * ``official_compat=True``: the released behaviour: the window runs over
      padded clips too, so padded features can leak into the last valid
      clips (the sequence ends are ``-inf``-padded).
    * ``official_compat=False`` (default): padded clips are set to ``-inf``
      before pooling, so a valid clip's maximum only covers valid clips, and
      padded outputs are set to 0 afterwards. Valid outputs equal the
      official ones whenever the batch has no padding.

    Args:
        kernel_size (int): Odd window length. Defaults to 5.
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self,
                 kernel_size: int = 5,
                 official_compat: bool = False) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'TemporalMaxPool: kernel_size must be a '
                             f'positive odd int, got {kernel_size}')
        self.kernel_size = kernel_size
        self.official_compat = official_compat

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, '
                f'official_compat={self.official_compat}')

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Pool.

        Args:
            x (Tensor): ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid clip.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        pad = ~mask.bool()[:, :, None]  # (B, L, 1)
        if not self.official_compat:
            x = x.masked_fill(pad, float('-inf'))
        y = F.max_pool1d(
            x.transpose(1, 2), self.kernel_size, 1,
            self.kernel_size // 2).transpose(1, 2)
        if not self.official_compat:
            y = y.masked_fill(pad, 0.0)
        return y
