# Copyright (c) mmmrhd contributors. All rights reserved.
"""Raw video / query text -> the released feature files' arrays."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from torch import nn

from mmmrhd.datasets.transforms.video_decoding import probe_video
from mmmrhd.registry import MODELS, build_part
from mmmrhd.utils.errors import ConfigError
from .stream_spec import StreamSpec, check_stream_layout

__all__ = ['VideoFeatureExtractor']

_STORAGE_DTYPES = ('float16', 'float32')


@MODELS.register_module()
class VideoFeatureExtractor(nn.Module):
    """Feature streams of a video and CLIP features of queries.

    ``extract_video`` returns, per stream, the array a released
    ``<stream>_features/<vid>.npz`` holds under ``features`` (rounded
    through ``storage_dtype``, float16 as released, and returned as
    float32), *before* the model-input steps (L2 normalisation, cutting to
    the shortest stream, TEF), which stay in the dataset transforms
    (:mod:`mmmrhd.datasets.transforms.feature_io`). So features written to
    disk and read back by the dataset equal the in-memory ones bitwise.

    Example config (HERO QVHighlights recipe)::

        extractor = dict(
            type='VideoFeatureExtractor',
            streams=[dict(type='SlowFastFeatureStream', clip_len=2),
                     dict(type='CLIPFeatureStream', clip_len=2)],
            text_encoder=dict(type='CLIPTextAdapter'))

    Args:
        streams (Sequence[dict | nn.Module]): Stream extractors (each with
            ``spec`` and ``extract(path, info)``), in the model's stream
            order (slowfast then clip for QVHighlights).
        text_encoder (dict | nn.Module, optional): Query encoder with
            ``encode(queries) -> list of dict`` (:class:`CLIPTextAdapter`).
        storage_dtype (str): ``'float16'`` (released files) or
            ``'float32'``.
    """

    def __init__(self,
                 streams: Sequence,
                 text_encoder=None,
                 storage_dtype: str = 'float16') -> None:
        super().__init__()
        if not streams:
            raise ConfigError('VideoFeatureExtractor: streams is empty')
        if storage_dtype not in _STORAGE_DTYPES:
            raise ConfigError(f'VideoFeatureExtractor: storage_dtype must be '
                              f'one of {_STORAGE_DTYPES}, got '
                              f'{storage_dtype!r}')
        self.stream_modules = nn.ModuleList(
            build_part(MODELS, s) for s in streams)
        names = [m.spec.name for m in self.stream_modules]
        if len(set(names)) != len(names):
            raise ConfigError(f'VideoFeatureExtractor: duplicate stream '
                              f'names {names}')
        self.text_encoder = build_part(MODELS, text_encoder)
        self.storage_dtype = storage_dtype

    @property
    def streams(self) -> List[StreamSpec]:
        """Stream specs in output (model) order."""
        return [m.spec for m in self.stream_modules]

    def check_model_streams(self, model_streams: Sequence[Dict]) -> None:
        """Raise a ConfigError unless the streams equal a model's
        ``InputProjection`` layout (TEF excluded) in order and width."""
        check_stream_layout(self.streams, model_streams)

    def _store(self, array: np.ndarray) -> np.ndarray:
        return array.astype(self.storage_dtype).astype(np.float32)

    def extract_video(self, path: str) -> Dict[str, np.ndarray]:
        """Features of every stream.

        Args:
            path (str): Video file.

        Returns:
            dict[str, np.ndarray]: stream name -> float32 ``(L, dim)``.

        Raises:
            VideoDecodeError: missing, empty, undecodable or audio-only.
        """
        info = probe_video(path)
        out = {}
        for module in self.stream_modules:
            feats = module.extract(path, info)
            if feats.ndim != 2 or feats.shape[1] != module.spec.dim:
                raise RuntimeError(
                    f'stream {module.spec.name} returned shape '
                    f'{feats.shape}, declared width {module.spec.dim}')
            out[module.spec.name] = self._store(feats)
        return out

    def extract_text(self,
                     queries: Sequence[str]) -> List[Dict[str, np.ndarray]]:
        """``clip_text_features`` arrays of each query.

        Returns:
            list[dict]: per query ``last_hidden_state`` float32 ``(T, 512)``
            and ``pooler_output`` float32 ``(512,)``.
        """
        if self.text_encoder is None:
            raise ConfigError('VideoFeatureExtractor has no text_encoder; '
                              'add one to the config to extract queries')
        if isinstance(queries, str):
            queries = [queries]
        return [{k: self._store(v)
                 for k, v in item.items()}
                for item in self.text_encoder.encode(list(queries))]

    @property
    def text_dim(self) -> Optional[int]:
        """Width of the text features (None without a text encoder)."""
        return getattr(self.text_encoder, 'out_dim', None)
