# Moment-DETR (Lei et al., "QVHighlights: Detecting Moments and Highlights
# in Videos via Natural Language Queries", NeurIPS 2021) at the QVHighlights
# input dimensions.
#
# Provenance: "official" = jayleicn/moment_detr at b7e553ac (paths under
# moment_detr/): config.py, model.py, transformer.py, train.py,
# scripts/train.sh. docs/en/user_guides/moment_detr.md explains every part.

video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2),
]
text_streams = [dict(name='clip_text', dim=512)]

embed_dim = 256  # `hidden_dim`
# `nheads` 8, `dim_feedforward` 1024, `dropout` 0.1; ReLU FFN (the DETR
# default; Moment-DETR's descendants switched to PReLU)
layer = dict(num_heads=8, ffn_dim=1024, dropout=0.1, activation='relu')

model = dict(
    type='MomentDETR',
    embed_dim=embed_dim,
    # True only keeps the unused official text PE (checkpoint loading)
    official_compat=False,
    max_text_len=32,
    data_preprocessor=dict(type='MRHDDataPreprocessor'),
    video_proj=dict(
        type='InputProjection', streams=video_streams, num_layers=2,
        dropout=0.5),  # `n_input_proj` 2, `input_dropout` 0.5
    text_proj=dict(
        type='InputProjection', streams=text_streams, num_layers=2,
        dropout=0.5),
    video_pos_embed=dict(type='SinePositionalEncoding1D'),
    text_pos_embed=dict(type='ZeroPositionalEncoding'),  # `use_txt_pos` off
    # `enc_layers` 2 post-norm self-attention layers over [video; text]
    encoder=dict(type='TransformerEncoder', num_layers=2, **layer),
    # `dec_layers` 2, `num_queries` 10 learned queries
    decoder=dict(
        type='DETRMomentDecoder', num_layers=2, num_queries=10, **layer),
    # spans = sigmoid(span_embed(hs)) (`span_loss_type` l1, no anchors)
    moment_head=dict(type='MomentHead'),
    saliency_head=dict(type='LinearSaliencyHead'),  # Linear(d, 1)
    moment_loss=dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher', cost_class=4, cost_span=10, cost_giou=1),
        loss_span=dict(type='SpanL1Loss'),
        loss_giou=dict(type='SpanGIoULoss'),
        loss_label=dict(type='CrossEntropyLabelLoss', eos_coef=0.1),
        aux_loss=True),
    # the hinge loss alone, `saliency_margin` 0.2 (model.py SetCriterion)
    saliency_loss=dict(
        type='SaliencyCriterion',
        terms=[dict(type='SaliencyHingeLoss', margin=0.2)]),
    joint_loss=dict(
        type='WeightedSumLoss',
        weights=dict(
            loss_span=10.0, loss_giou=1.0, loss_label=4.0,
            loss_saliency=1.0)),
    post_processor=dict(
        type='MomentPostProcessor', clip_len=2.0, min_ts=0.0, max_ts=150.0))
