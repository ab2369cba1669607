# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.layers: reusable building blocks of the MR/HD models."""
from .attention import (MultiheadAttention, ProjectionFreeAttention,
                        key_padding_to_attn_mask, multi_head_attention)
from .bicmf_encoder import BiCMFEncoder, BiCMFLayer
from .channel_layer_norm import ChannelLayerNorm
from .dropout import Dropout, dropout
from .feature_refinement import FeatureRefinement
from .ffn import PReLUFFNMixin
from .global_token import GlobalToken
from .input_projection import InputProjection, ProjectionLayer
from .mlp import MLP, inverse_sigmoid
from .positional_encoding import (LearnedPositionalEncoding,
                                  SinePositionalEncoding1D,
                                  ZeroPositionalEncoding, span_sine_embedding)
from .prelu import PReLU
from .t2v_encoder import (T2VCrossAttentionLayer, T2VEncoder,
                          official_t2v_attn_mask)
from .temporal_max_pool import TemporalMaxPool
from .transformer_encoder import PostNormEncoderLayer, TransformerEncoder
from .weighted_pool import WeightedPool, mask_logits
from .context_query_fuser import (CQAttention, CQConcatenate,
                                  ContextQueryFuser)

__all__ = [
    'BiCMFEncoder', 'BiCMFLayer', 'FeatureRefinement',
    'MultiheadAttention', 'ProjectionFreeAttention',
    'key_padding_to_attn_mask', 'multi_head_attention', 'ChannelLayerNorm',
    'Dropout', 'dropout', 'PReLU', 'PReLUFFNMixin',
    'InputProjection', 'ProjectionLayer', 'MLP', 'inverse_sigmoid',
    'LearnedPositionalEncoding', 'SinePositionalEncoding1D',
    'ZeroPositionalEncoding', 'span_sine_embedding', 'T2VCrossAttentionLayer',
    'T2VEncoder', 'official_t2v_attn_mask', 'TemporalMaxPool',
    'PostNormEncoderLayer', 'TransformerEncoder', 'GlobalToken',
    'WeightedPool', 'mask_logits', 'CQAttention', 'CQConcatenate',
    'ContextQueryFuser'
]
