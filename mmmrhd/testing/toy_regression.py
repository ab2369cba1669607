# Copyright (c) mmmrhd contributors. All rights reserved.
"""A tiny regression task for runner-level tests (checkpointing, resume).

Not registered here (``import mmmrhd`` registers only the toolbox's parts);
a test registers the classes under its own names, e.g.
``MODELS.register_module(name='MyToyModel', module=ToyRegressionModel,
force=True)``.
"""
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

__all__ = ['ToyRegressionDataset', 'ToyRegressionModel', 'ToyRegressionMetric']


class ToyRegressionDataset(Dataset):
    """``y = x @ w + 0.5`` on fixed random ``x`` (4 features).

    Args:
        num_samples (int): Number of samples. Defaults to 16.
        offset (int): Seed of ``x``. Defaults to 0.
    """

    metainfo = dict(name='toy-regression')

    def __init__(self, num_samples: int = 16, offset: int = 0) -> None:
        gen = torch.Generator().manual_seed(offset)
        self.x = torch.randn(num_samples, 4, generator=gen)
        self.y = self.x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.5

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.x[idx], data_samples=self.y[idx])


class ToyRegressionModel(BaseModel):
    """Two linear layers; no dropout, so training is RNG-free."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        out = self.net(inputs)
        if mode == 'loss':
            return dict(loss=((out - data_samples)**2).mean())
        if mode == 'predict':
            return list(zip(out, data_samples))
        return out


class ToyRegressionMetric(BaseMetric):
    """Mean squared error, returned as a numpy float (as many metrics do)."""

    def process(self, data_batch, data_samples) -> None:
        for pred, target in data_samples:
            self.results.append(float(((pred - target)**2).sum()))

    def compute_metrics(self, results: list) -> dict:
        return dict(mse=np.float32(np.mean(results)))
