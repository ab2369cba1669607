# Copyright (c) mmmrhd contributors. All rights reserved.
"""Experts of TaskWeave's task-decoupled unit (paper §3.2, Table 5).

Every expert maps task features ``x (B, L, d)`` with the clip mask
``(B, L)`` (1 = valid) and the clip positional encoding ``(B, L, d)`` to
``(B, L, d)``, and accepts the constructor arguments ``embed_dim`` and
``official_compat`` (ignored where nothing differs from the release).
"""
from typing import Optional

from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part
from ..layers.channel_layer_norm import ChannelLayerNorm
from ..layers.transformer_encoder import TransformerEncoder

#: Built-in expert types (paper Table 5: identity, linear, CNN, Transformer).
EXPERT_TYPES = ('IdentityExpert', 'LinearExpert', 'CNNExpert',
                'TransformerExpert')


class BaseExpert(nn.Module):
    """Base class of the experts: the type check of expert configs.

    :func:`~mmmrhd.models.necks.build_expert` accepts only registered
    subclasses, so that a config naming another registered module (e.g. a
    loss) fails with a list of the valid types instead of an ``__init__``
    ``TypeError``. A new expert subclasses this, registers in ``MODELS``,
    accepts ``embed_dim`` and ``official_compat`` and implements
    ``forward(x (B, L, d), mask (B, L), pos (B, L, d)) -> (B, L, d)``.
    """

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """Map ``x`` ``(B, L, d)`` to ``(B, L, d)``."""
        raise NotImplementedError


@MODELS.register_module()
class IdentityExpert(BaseExpert):
    """Identity mapping (paper "Iden."; TaskWeave's HD-specific expert).

    Args:
        embed_dim (int): Unused (uniform expert signature).
        official_compat (bool): Unused.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 official_compat: bool = False) -> None:
        super().__init__()

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """Return ``x`` ``(B, L, d)`` unchanged."""
        return x


@MODELS.register_module()
class LinearExpert(BaseExpert):
    """One Linear layer (paper "Line.", a one-layer feed-forward network).

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        official_compat (bool): Unused.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 official_compat: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """``(B, L, d) -> (B, L, d)``."""
        return self.fc(x)


@MODELS.register_module()
class CNNExpert(BaseExpert):
    """Depth-wise conv -> channel LayerNorm -> 1x1 conv (TaskWeave's MR
    expert, paper §4.4 "CNN"; official ``mr_conv``/``mr_norm``/``mr_proj``).

    ``conv`` = Conv1d(d, d, k, padding k//2, groups=d, bias=False) whose
    output is multiplied by a clip mask (ActionFormer ``MaskedConv1D``),
    ``norm`` = :class:`ChannelLayerNorm` with ``(1, d, 1)`` affine
    parameters, ``proj`` = Conv1d(d, d, 1).

    * ``official_compat=True``: the release passes the *padding* mask (True =
      pad) where ``MaskedConv1D`` expects True = valid, so the conv output is
      exactly zero at every valid clip; at valid clips the expert then
      returns the constant ``proj(norm.bias)`` and ``conv.weight`` /
      ``norm.weight`` get exactly zero gradients (official
      ``transformer.py`` L190; fixtures README quirk 12).
    * ``official_compat=False`` (default, the intended expert): the conv
      input and output are multiplied by the valid mask, so padded clips
      neither contribute to nor receive conv features.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        kernel_size (int): Odd conv window. Defaults to 5.
        official_compat (bool): See above. Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 kernel_size: int = 5,
                 official_compat: bool = False) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'CNNExpert: kernel_size must be a positive '
                             f'odd int, got {kernel_size}')
        self.official_compat = official_compat
        self.conv = nn.Conv1d(
            embed_dim,
            embed_dim,
            kernel_size,
            padding=kernel_size // 2,
            groups=embed_dim,
            bias=False)
        self.norm = ChannelLayerNorm(embed_dim)
        self.proj = nn.Conv1d(embed_dim, embed_dim, 1)

    def extra_repr(self) -> str:
        return f'official_compat={self.official_compat}'

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """Apply the expert.

        Args:
            x (Tensor): ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid clip.
            pos (Tensor): Unused.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        xt = x.transpose(1, 2)  # (B, d, L)
        if self.official_compat:
            out = self.conv(xt) * (~mask.bool())[:, None, :].to(x.dtype)
        else:
            valid = mask[:, None, :].to(x.dtype)
            out = self.conv(xt * valid) * valid
        return self.proj(self.norm(out)).transpose(1, 2)


@MODELS.register_module()
class TransformerExpert(BaseExpert):
    """Self-attention encoder, optionally followed by temporal max-pooling.

    TaskWeave's shared expert is this with 2 layers and
    ``TemporalMaxPool(5)`` (official ``shared_encoder`` + ``temporalmaxer``,
    ``transformer.py`` L81, L175-178; the layer count is hard-coded to 2
    there); it is also the "Trans." task-specific expert of Table 5.

    Args:
        embed_dim (int): ``d``. Defaults to 256.
        num_layers (int): Encoder layers. Defaults to 2.
        num_heads (int): Defaults to 8.
        ffn_dim (int): Defaults to 1024.
        dropout (float): Defaults to 0.1.
        pool (dict, optional): Config of the pooling after the encoder
            (``TemporalMaxPool``); None = no pooling. Its
            ``official_compat`` defaults to this expert's.
        official_compat (bool): Passed to the pooling. Defaults to False.
    """

    def __init__(self,
                 embed_dim: int = 256,
                 num_layers: int = 2,
                 num_heads: int = 8,
                 ffn_dim: int = 1024,
                 dropout: float = 0.1,
                 pool: Optional[dict] = dict(
                     type='TemporalMaxPool', kernel_size=5),
                 official_compat: bool = False) -> None:
        super().__init__()
        self.encoder = TransformerEncoder(num_layers, embed_dim, num_heads,
                                          ffn_dim, dropout)
        self.pool = None
        if pool is not None:
            pool = dict(pool)
            pool.setdefault('official_compat', official_compat)
            self.pool = build_part(MODELS, pool)

    def forward(self, x: Tensor, mask: Tensor, pos: Tensor) -> Tensor:
        """Encode (and pool).

        Args:
            x (Tensor): ``(B, L, d)``.
            mask (Tensor): ``(B, L)``, 1 = valid clip.
            pos (Tensor): ``(B, L, d)``.

        Returns:
            Tensor: ``(B, L, d)``.
        """
        x = self.encoder(x, mask, pos)
        return x if self.pool is None else self.pool(x, mask)
