# VideoLights (Paul et al., "VideoLights: Feature Refinement and Cross-Task
# Alignment Transformer for Joint Video Highlight Detection and Moment
# Retrieval", arXiv 2412.01558) at the no-BLIP QVHighlights input dimensions
# (SlowFast + CLIP + TEF = 2818, CLIP text 512), paper design
# (official_compat=False).
#
# Provenance: "paper" = the arXiv paper; "official" = dpaul06/VideoLights at
# 76308bb0 (paths under video_lights/): config.py (options), model.py,
# transformer.py, feature_refinement.py, scripts/qvhl/*.sh. Values equal
# the official QVHighlights script values
# (scripts/qvhl/train_from_pretrain-sf_clip.sh) unless said otherwise.
# docs/en/user_guides/videolights.md explains every part.

video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2),
]
text_streams = [dict(name='clip_text', dim=512)]

embed_dim = 256  # `hidden_dim` 256 (paper §IV "d = 256")
num_heads = 8  # `nheads` 8
ffn_dim = 1024  # `dim_feedforward` 1024
dropout = 0.1  # `dropout` 0.1 (paper §IV: 0.1 in the transformer layers)
layer = dict(num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout)

model = dict(
    type='VideoLights',
    embed_dim=embed_dim,
    official_compat=False,
    max_text_len=32,  # `max_q_l` 32 (only sizes the unused official text PE)
    data_preprocessor=dict(type='MRHDDataPreprocessor'),
    # FRA stage 1, "convolutional projection" (paper §III-B): the official
    # ConvLinearLayer is LN -> Dropout(0.5) -> Conv1d(kernel 1) (-> ReLU),
    # i.e. the same maths as a Linear; `n_input_proj` 2, `input_dropout` 0.5
    # (components.py L63-85; model.py L68-83).
    video_proj=dict(
        type='InputProjection', streams=video_streams, num_layers=2,
        dropout=0.5),
    text_proj=dict(
        type='InputProjection', streams=text_streams, num_layers=2,
        dropout=0.5),
    # FRA stage 2, feature refinement (paper §III-B; feature_refinement.py).
    feature_refinement=dict(
        type='FeatureRefinement',
        dropout=0.1,
        sentence_pool=dict(type='WeightedPool')),
    video_pos_embed=dict(type='SinePositionalEncoding1D'),
    text_pos_embed=dict(type='ZeroPositionalEncoding'),  # `use_txt_pos` off
    # Learned global (saliency) token, QD-DETR style (model.py L117-118).
    global_token=dict(type='GlobalToken'),
    # Bi-CMF (paper §III-C): 1 layer (`bicmf_layers` 1 in every script;
    # paper Fig. 7).
    fusion=dict(type='BiCMFEncoder', num_layers=1, **layer),
    # Self-attention encoder over [global token; clips], `enc_layers` 3.
    encoder=dict(type='TransformerEncoder', num_layers=3, **layer),
    # DAB moment decoder, `dec_layers` 3, 10 queries (`num_queries`).
    decoder=dict(
        type='DABMomentDecoder', num_layers=3, num_queries=10, **layer),
    moment_head=dict(type='MomentHead'),
    # QD-DETR saliency: <W1 m_t, W2 g> / sqrt(d) (model.py L230-236).
    saliency_head=dict(type='QuerySaliencyHead', with_global=True),
    # Uni-JFM (paper §III-E): TR-DETR's MR2HD GRU feedback on the projected
    # clips, its own saliency projection (`saliency_proj_mr`); feeds the
    # task-coupled loss only (`--mr_to_hd_loss`, model.py L252-295).
    feedback=dict(type='SpanGRUFeedback', clip_len=2.0),
    feedback_head=dict(type='QuerySaliencyHead', with_global=False),
    align_dim=64,  # `contrastive_hdim` 64
    # MR losses: L1 10 + gIoU 1 + CE 4 (eos_coef 0.1) with the Hungarian
    # matcher (costs 4 / 10 / 1), on every decoder layer.
    moment_loss=dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher', cost_class=4, cost_span=10, cost_giou=1),
        loss_span=dict(type='SpanL1Loss'),
        loss_giou=dict(type='SpanGIoULoss'),
        loss_label=dict(type='CrossEntropyLabelLoss', eos_coef=0.1),
        aux_loss=True),
    # HD loss (paper eq. 2): QD-DETR's hinge (margin 0.2) + rank contrastive
    # + negative pair, the saliency cos-sim loss L_ts (`cos_sim_loss_coef`
    # 1), the task-coupled L_tc (`mr_to_hd_loss_coef` 1) and the adaptive
    # hard negative / positive losses (`hard_pos_neg_loss_coef` 10, times
    # epoch + 1 through AdaptiveLossScheduleHook).
    saliency_loss=dict(
        type='SaliencyCriterion',
        terms=[
            dict(type='SaliencyHingeLoss', margin=0.2),
            dict(type='RankContrastiveLoss', with_neg=True, tau=0.5),
            dict(type='NegPairLoss', mode='official'),
            dict(type='SaliencyCosSimLoss', loss_weight=1.0),
            dict(
                type='SaliencyCosSimLoss',
                score_key='saliency_scores_mr',
                name='mr_to_hd',
                loss_weight=1.0),
            dict(type='AdaptiveHardSaliencyLoss', part='neg',
                 loss_weight=10.0),
            dict(type='AdaptiveHardSaliencyLoss', part='pos',
                 loss_weight=10.0),
        ]),
    # Alignment loss (paper eq. 4-7): query-text NCE (tau 0.07) per decoder
    # layer + the FRA video-text term on the final layer.
    align_loss=dict(type='ContrastiveAlignLoss', temperature=0.07),
    # Official weight dict: span 10, giou 1, label 4, saliency 1 (`lw_
    # saliency`), contrastive align 0.2 (scripts); aux copies except
    # saliency.
    joint_loss=dict(
        type='WeightedSumLoss',
        weights=dict(
            loss_span=10.0,
            loss_giou=1.0,
            loss_label=4.0,
            loss_saliency=1.0,
            loss_contrastive_align=0.2)),
    post_processor=dict(
        type='MomentPostProcessor', clip_len=2.0, min_ts=0.0, max_ts=150.0))
