# QD-DETR (Moon et al., "Query-Dependent Video Representation for Moment
# Retrieval and Highlight Detection", CVPR 2023) at the QVHighlights input
# dimensions, paper design (official_compat=False).
#
# Provenance: "official" = wjun0830/QD-DETR at 56c63b2c (paths under
# qd_detr/): config.py (options), model.py, transformer.py, train.py,
# scripts/train.sh. Every value below is the official QVHighlights default
# unless said otherwise; docs/en/user_guides/qd_detr.md explains every part.

# SlowFast (2304) + CLIP (512) per 2-s clip + 2 TEF columns = 2818
# (`v_feat_dirs` order, `ctx_mode=video_tef`); CLIP text tokens 512.
video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2),
]
text_streams = [dict(name='clip_text', dim=512)]

embed_dim = 256  # `hidden_dim`
num_heads = 8  # `nheads`
ffn_dim = 1024  # `dim_feedforward`
dropout = 0.1  # `dropout` (transformer)
layer = dict(num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout)

model = dict(
    type='QDDETR',
    embed_dim=embed_dim,
    # True: the released T2V attention mask (batch/head mix-up, fixtures
    # README quirk 1) and the unused text PE (configs/qd_detr/*_official.py)
    official_compat=False,
    max_text_len=32,  # `max_q_l` (only sizes the unused official text PE)
    data_preprocessor=dict(type='MRHDDataPreprocessor'),
    # `n_input_proj` 2 LinearLayers LN -> Dropout(`input_dropout` 0.5) ->
    # Linear (-> ReLU on the first) (model.py L64-76)
    video_proj=dict(
        type='InputProjection', streams=video_streams, num_layers=2,
        dropout=0.5),
    text_proj=dict(
        type='InputProjection', streams=text_streams, num_layers=2,
        dropout=0.5),
    # normalised sine PE over clips; text PE = zeros (`use_txt_pos` False)
    video_pos_embed=dict(type='SinePositionalEncoding1D'),
    text_pos_embed=dict(type='ZeroPositionalEncoding'),
    # query-dependent video representation: `enc_layers` 2 T2V
    # cross-attention layers (transformer.py L383-475), PReLU FFN
    fusion=dict(type='T2VEncoder', num_layers=2, **layer),
    # learned saliency token + its position prepended (model.py L121-128)
    global_token=dict(type='GlobalToken'),
    # `enc_layers` 2 self-attention layers over [global; clips]
    encoder=dict(type='TransformerEncoder', num_layers=2, **layer),
    # DAB-DETR style decoder, `dec_layers` 2, `num_queries` 10
    decoder=dict(
        type='DABMomentDecoder', num_layers=2, num_queries=10, **layer),
    moment_head=dict(type='MomentHead'),
    # <W1 m_t, W2 g> / sqrt(d) (model.py L173)
    saliency_head=dict(type='QuerySaliencyHead', with_global=True),
    # Hungarian matcher class 4 / span 10 / giou 1, CE with `eos_coef` 0.1,
    # `aux_loss` on every decoder layer
    moment_loss=dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher', cost_class=4, cost_span=10, cost_giou=1),
        loss_span=dict(type='SpanL1Loss'),
        loss_giou=dict(type='SpanGIoULoss'),
        loss_label=dict(type='CrossEntropyLabelLoss', eos_coef=0.1),
        aux_loss=True),
    # hinge (`saliency_margin` 0.2) + rank-aware contrastive + negative-pair
    # (model.py L291-361, in the official sum order)
    saliency_loss=dict(
        type='SaliencyCriterion',
        terms=[
            dict(type='SaliencyHingeLoss', margin=0.2),
            dict(type='RankContrastiveLoss', with_neg=True, tau=0.5),
            dict(type='NegPairLoss', mode='official'),
        ]),
    # sum(loss * weight_dict) (train.py L64-67): `span_loss_coef` 10,
    # `giou_loss_coef` 1, `label_loss_coef` 4, `lw_saliency` 1
    joint_loss=dict(
        type='WeightedSumLoss',
        weights=dict(
            loss_span=10.0, loss_giou=1.0, loss_label=4.0,
            loss_saliency=1.0)),
    # official QVHighlights post-processing: clamp [0, 150] s, 2-s grid,
    # all 10 windows, no NMS
    post_processor=dict(
        type='MomentPostProcessor', clip_len=2.0, min_ts=0.0, max_ts=150.0))
