# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.decoders: task decoders."""
from .dab_decoder_layer import DABDecoderLayer
from .dab_moment_decoder import DABMomentDecoder
from .detr_decoder_layer import DETRDecoderLayer
from .detr_moment_decoder import DETRMomentDecoder

__all__ = [
    'DABDecoderLayer', 'DABMomentDecoder', 'DETRDecoderLayer',
    'DETRMomentDecoder'
]
