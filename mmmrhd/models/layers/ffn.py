# Copyright (c) mmmrhd contributors. All rights reserved.
"""The feed-forward block of the DETR-style layers (PReLU or ReLU)."""
from torch import Tensor, nn

from .dropout import Dropout
from .prelu import PReLU


class PReLUFFNMixin:
    """``FFN(x) = Linear(d, d_ff) -> PReLU -> Drop -> Linear(d_ff, d)``.

    Mixed into the encoder, fusion and decoder layers of the official code
    (``activation='prelu'`` in ``transformer.py``). The parts are attributes
    of the layer itself, ``linear1``, ``dropout``, ``linear2`` and
    ``activation``, so the state_dict keys are the official ones and
    checkpoints convert by prefix only. ``linear1`` and ``linear2`` are
    created in that order (their default initialisation draws from the
    torch RNG).

    Moment-DETR's layers use ReLU (``activation='relu'``, no parameter);
    its descendants build their transformers with ``activation='prelu'``
    (one learnable slope per FFN).
    """

    def init_ffn(self,
                 embed_dim: int,
                 ffn_dim: int,
                 dropout: float,
                 activation: str = 'prelu') -> None:
        """Create the FFN parts (call from ``__init__``).

        Args:
            embed_dim (int): ``d``.
            ffn_dim (int): ``d_ff``.
            dropout (float): Dropout on the hidden activations.
            activation (str): ``'prelu'`` (default) or ``'relu'``.
        """
        if activation not in ('prelu', 'relu'):
            raise ValueError(f"FFN activation must be 'prelu' or 'relu', got "
                             f'{activation!r}')
        self.linear1 = nn.Linear(embed_dim, ffn_dim)
        # In place after PReLU: its output is a fresh tensor no backward
        # reads (tests/models/layers/test_inplace_dropout.py); ReLU's
        # backward reads its output, so not in place there.
        self.dropout = Dropout(dropout, inplace=activation == 'prelu')
        self.linear2 = nn.Linear(ffn_dim, embed_dim)
        self.activation = PReLU() if activation == 'prelu' else nn.ReLU()

    def ffn(self, x: Tensor) -> Tensor:
        """Apply the FFN.

        Args:
            x (Tensor): ``(..., d)``.

        Returns:
            Tensor: ``(..., d)``.
        """
        return self.linear2(self.dropout(self.activation(self.linear1(x))))
