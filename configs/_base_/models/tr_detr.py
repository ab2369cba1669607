# TR-DETR (Sun et al., "TR-DETR: Task-Reciprocal Transformer for Joint Moment
# Retrieval and Highlight Detection", AAAI 2024) at the QVHighlights input
# dimensions, paper-intent design (official_compat=False).
#
# Provenance: "official" = mingyao1120/TR-DETR at fca43a9c (paths under
# tr_detr/): config.py (options), scripts/train.sh (the released
# QVHighlights run), model.py, transformer.py, interaction/test_CQA.py,
# loss_fun/{VTCLoss,CTCLoss}.py, train.py. models.md §4 and
# docs/en/user_guides/tr_detr.md explain every part.
video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2),
]
text_streams = [dict(name='clip_text', dim=512)]

embed_dim = 256  # `hidden_dim`
num_heads = 8  # `nheads`
ffn_dim = 1024  # `dim_feedforward`
dropout = 0.1  # `dropout`

model = dict(
    type='TRDETR',
    embed_dim=embed_dim,
    # False = the paper's evident intent (masked softmax / means, GRU over
    # the moment only, cosine MR2HD weights); True = the released code
    # (configs/tr_detr/tr_detr_qvh_official.py).
    official_compat=False,
    max_text_len=32,  # `max_q_l` (only sizes the unused official text PE)
    data_preprocessor=dict(type='MRHDDataPreprocessor'),
    # `n_input_proj` 2 LinearLayers, `input_dropout` 0.5 (model.py L96-105).
    video_proj=dict(
        type='InputProjection', streams=video_streams, num_layers=2,
        dropout=0.5),
    text_proj=dict(
        type='InputProjection', streams=text_streams, num_layers=2,
        dropout=0.5),
    video_pos_embed=dict(type='SinePositionalEncoding1D'),
    text_pos_embed=dict(type='ZeroPositionalEncoding'),  # `use_txt_pos` off
    # Visual feature refinement = VSLNet context-query fuser, dropout 0.1
    # (model.py L117 `VSLFuser(d_model)`; test_CQA.py L110-119).
    refiner=dict(type='ContextQueryFuser', dropout=0.1),
    # 2 T2V cross-attention layers (`enc_layers`; transformer.py L71-73).
    fusion=dict(
        type='T2VEncoder', num_layers=2, num_heads=num_heads,
        ffn_dim=ffn_dim, dropout=dropout),
    # 2 self-attention layers, run twice (HD2MR re-encodes with the same
    # weights; transformer.py L77-79, L148-158).
    encoder=dict(
        type='TransformerEncoder', num_layers=2, num_heads=num_heads,
        ffn_dim=ffn_dim, dropout=dropout),
    hd2mr=dict(type='SaliencyReencoder'),
    decoder=dict(
        type='DABMomentDecoder', num_layers=2, num_queries=10,
        num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout),
    moment_head=dict(type='MomentHead'),
    # s_t = sum_c(W1 m_t + b1) / sqrt(d) (official `saliency_proj1`).
    saliency_head=dict(type='QuerySaliencyHead', with_global=False),
    # MR2HD: top-1 span -> GRU(256) -> clip weights (model.py L205-247).
    mr2hd=dict(type='SpanGRUFeedback', clip_len=2.0),
    # Matcher costs class 4 / span 10 / giou 1; the label loss is a sigmoid
    # focal loss (alpha 0.25, gamma 2; model.py L315-336), no eos_coef.
    moment_loss=dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher', cost_class=4, cost_span=10, cost_giou=1),
        loss_span=dict(type='SpanL1Loss'),
        loss_giou=dict(type='SpanGIoULoss'),
        loss_label=dict(type='SigmoidFocalLabelLoss', alpha=0.25, gamma=2.0),
        aux_loss=True),
    # Hinge (margin 0.2) + rank-aware contrastive over the positive scores;
    # no negative-pair term (model.py L338-393).
    saliency_loss=dict(
        type='SaliencyCriterion',
        terms=[
            dict(type='SaliencyHingeLoss', margin=0.2),
            dict(type='RankContrastiveLoss', with_neg=False, tau=0.5),
        ]),
    # Local (CTC) and global (VTC) alignment on the projected features,
    # tau 0.07 (loss_fun/*.py; train.py L71-83). Needs the pos_mask target
    # (GeneratePositiveClipMask in the train pipeline).
    extra_losses=[
        dict(type='VideoTextContrastiveLoss', temperature=0.07),
        dict(type='ClipTextAlignmentLoss', temperature=0.07),
    ],
    # Official total: weight dict (span 10, giou 1, label 4 = the script's
    # `--label_loss_coef 4`, saliency 1, aux copies) + VTC_loss_coef * VTC +
    # CTC_loss_coef * CTC; scripts/train.sh and the released checkpoint:
    # 0.3 / 0.5 (config.py defaults 1 / 1).
    joint_loss=dict(
        type='WeightedSumLoss',
        weights=dict(
            loss_span=10.0,
            loss_giou=1.0,
            loss_label=4.0,
            loss_saliency=1.0,
            loss_vtc=0.3,
            loss_ctc=0.5),
        aux_exclude=('loss_saliency', 'loss_vtc', 'loss_ctc')),
    # QVHighlights post-processing (postprocessing_tr_detr.py): clamp to
    # [0, 150] s, round to the 2-s grid, 10 windows, no NMS.
    post_processor=dict(
        type='MomentPostProcessor', clip_len=2.0, min_ts=0.0, max_ts=150.0))

