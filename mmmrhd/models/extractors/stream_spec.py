# Copyright (c) mmmrhd contributors. All rights reserved.
"""What a feature stream declares, and the check against a model's
``InputProjection`` stream layout."""
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Sequence

from mmmrhd.utils.errors import ConfigError

__all__ = ['StreamSpec', 'check_stream_layout']


@dataclass(frozen=True)
class StreamSpec:
    """One video feature stream.

    Attributes:
        name (str): Stream name, also the output directory prefix
            (``<name>_features/``): ``'slowfast'``, ``'clip'``.
        dim (int): Feature width (2304, 512).
        clip_len (float): Seconds covered by one feature row (2 for
            QVHighlights, 1 for Charades-STA).
        fps (float): Frame rate the stream decodes at (30 SlowFast, 0.5
            CLIP at 2-s clips).
    """
    name: str
    dim: int
    clip_len: float
    fps: float

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict (for ``extraction_meta.json``)."""
        return asdict(self)


def check_stream_layout(specs: Sequence[StreamSpec],
                        model_streams: Sequence[Dict[str, Any]],
                        ignore: Sequence[str] = ('tef', )) -> None:
    """Check extractor streams against a model's input streams.

    Args:
        specs (Sequence[StreamSpec]): The extractor's streams, in order.
        model_streams (Sequence[dict]): ``InputProjection`` ``streams``
            (``dict(name=..., dim=...)``), in column order.
        ignore (Sequence[str]): Model streams the extractor does not
            produce (the temporal endpoint features are appended later).

    Raises:
        ConfigError: order, names or widths differ (both layouts named).
    """
    wanted: List[tuple] = [(s['name'], int(s['dim'])) for s in model_streams
                           if s['name'] not in ignore]
    have = [(s.name, int(s.dim)) for s in specs]
    if wanted != have:
        fmt = ' + '.join
        raise ConfigError(
            'extractor streams do not match the model input: extractor '
            f"gives {fmt(f'{n} {d}' for n, d in have) or 'nothing'}, model "
            f"expects {fmt(f'{n} {d}' for n, d in wanted) or 'nothing'} "
            f'(besides {", ".join(ignore)})')
