# Copyright (c) mmmrhd contributors. All rights reserved.
"""The PReLU feed-forward block of the DETR-style layers."""
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
    """

    def init_ffn(self, embed_dim: int, ffn_dim: int, dropout: float) -> None:
        """Create the FFN parts (call from ``__init__``).

        Args:
            embed_dim (int): ``d``.
            ffn_dim (int): ``d_ff``.
            dropout (float): Dropout on the hidden activations.
        """
        self.linear1 = nn.Linear(embed_dim, ffn_dim)
        # In place: the PReLU output is a fresh tensor no backward reads
        # (tests/models/layers/test_inplace_dropout.py).
        self.dropout = Dropout(dropout, inplace=True)
        self.linear2 = nn.Linear(ffn_dim, embed_dim)
        self.activation = PReLU()

    def ffn(self, x: Tensor) -> Tensor:
        """Apply the FFN.

        Args:
            x (Tensor): ``(..., d)``.

        Returns:
            Tensor: ``(..., d)``.
        """
        return self.linear2(self.dropout(self.activation(self.linear1(x))))
