# TaskWeave (Yang et al., "Task-Driven Exploration: Decoupling and Inter-Task
# Feedback for Joint Moment Retrieval and Highlight Detection", CVPR 2024) at
# the QVHighlights input dimensions, paper design (official_compat=False).
#
# Provenance: "paper" = the CVPR 2024 paper; "official" = EdenGabriel/TaskWeave
# at 2d0569b5 (paths under taskweave/): config.py (options), model.py,
# transformer.py, train.py. Every value below equals the official default of
# the released QVHighlights runs (results/best_model_*/opt.json) unless said
# otherwise. docs/en/user_guides/taskweave.md explains every part.

# Feature layout of the official QVHighlights release: SlowFast (2304) then
# CLIP (512) per 2-s clip, + 2 TEF columns = 2818 (official `v_feat_dirs`
# order, config.py L218-223), CLIP text tokens 512 (`t_feat_dim`).
video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='tef', dim=2),
]
text_streams = [dict(name='clip_text', dim=512)]

embed_dim = 256  # `hidden_dim` 256 (config.py; paper §4.2 "D")
num_heads = 8  # `nheads` 8 (paper §4.2 "8 attention heads")
ffn_dim = 1024  # `dim_feedforward` 1024
dropout = 0.1  # `dropout` 0.1 (paper §4.2 "a dropout rate of 0.1")

model = dict(
    type='TaskWeave',
    embed_dim=embed_dim,
    # False = the paper's design; True switches every part to the released
    # code's behaviour (see configs/taskweave/taskweave_qvh_official.py).
    official_compat=False,
    max_text_len=32,  # `max_q_l` 32 (only sizes the unused official text PE)
    data_preprocessor=dict(type='MRHDDataPreprocessor'),
    # Input projections: `n_input_proj` 2 LinearLayers, LN -> Dropout(0.5)
    # -> Linear (-> ReLU on the first), `input_dropout` 0.5 (model.py
    # L64-75; paper §3.1 "dimensions consistent at D by the projection").
    video_proj=dict(
        type='InputProjection',
        streams=video_streams,
        num_layers=2,
        dropout=0.5),
    text_proj=dict(
        type='InputProjection',
        streams=text_streams,
        num_layers=2,
        dropout=0.5),
    # Normalised sine PE over clips, temperature 1e4, scale 2*pi
    # (position_encoding.py L35-72); text PE = zeros (`use_txt_pos` False).
    video_pos_embed=dict(type='SinePositionalEncoding1D'),
    text_pos_embed=dict(type='ZeroPositionalEncoding'),
    # Multi-modal fusion: 2-layer T2V cross-attention, video = query,
    # text = key/value (paper §4.2; `enc_layers` 2, transformer.py L71-74).
    fusion=dict(
        type='T2VEncoder',
        num_layers=2,
        num_heads=num_heads,
        ffn_dim=ffn_dim,
        dropout=dropout),
    # MaxPool1d(kernel 5, stride 1, padding 2) after the fusion (paper §3.1;
    # transformer.py L79).
    fusion_pool=dict(type='TemporalMaxPool', kernel_size=5),
    # Task-decoupled unit (paper §3.2, eq. 1): mr/hd mappers (Linear),
    # one shared expert = 2 self-attention layers + MaxPool(5) (paper §4.4
    # "fixed configuration with 2 Transformer layers"; transformer.py L81,
    # L175-178), MR expert = CNN (depth-wise conv k5 + channel LN + 1x1
    # conv, paper §4.4 / Table 5 (f); transformer.py L88-91), HD expert =
    # identity (Table 5 (f)).
    neck=dict(
        type='TaskDecoupledUnit',
        shared_expert=dict(
            type='TransformerExpert',
            num_layers=2,
            num_heads=num_heads,
            ffn_dim=ffn_dim,
            dropout=dropout,
            pool=dict(type='TemporalMaxPool', kernel_size=5)),
        mr_expert=dict(type='CNNExpert', kernel_size=5),
        hd_expert=dict(type='IdentityExpert')),
    # MR decoder: DAB-DETR style, `dec_layers` 2, Nq = 10 moment queries
    # (paper §3.3 "set to 10"; transformer.py L380-518).
    decoder=dict(
        type='DABMomentDecoder',
        num_layers=2,
        num_queries=10,
        num_heads=num_heads,
        ffn_dim=ffn_dim,
        dropout=dropout),
    # class_embed Linear(d, 2) (index 0 = foreground) + span_embed 3-layer
    # MLP (model.py L58-62).
    moment_head=dict(type='MomentHead'),
    # Lightweight HD decoder, paper eq. (2) (model.py L86-88, L201-202).
    saliency_head=dict(type='LightweightHDHead'),
    # Inter-task feedback (paper §3.3, Table 7). 'mr2hd' (moment-guided
    # feedback) gives the paper's MR results (Table 3 MR columns, Table 7
    # row 1); the released code runs 'hd2mr'. It is switched on during
    # training by FeedbackActivationHook (paper §4.4: from half the epochs).
    feedback=dict(
        type='FeedbackHead',
        manner='mr2hd',
        h2m=dict(type='HighlightToMask'),
        m2m=dict(type='MomentToMask')),
    # MR losses (paper §3.4: L1 + gIoU + CE): Hungarian matcher with costs
    # class 4 / span 10 / giou 1 (`set_cost_*`, matcher.py L12-107), CE with
    # `eos_coef` 0.1 (model.py L309-329), `aux_loss` on every decoder layer.
    moment_loss=dict(
        type='MomentCriterion',
        matcher=dict(
            type='HungarianMatcher', cost_class=4, cost_span=10, cost_giou=1),
        loss_span=dict(type='SpanL1Loss'),
        loss_giou=dict(type='SpanGIoULoss'),
        loss_label=dict(type='CrossEntropyLabelLoss', eos_coef=0.1),
        aux_loss=True),
    # HD losses (paper §3.4: hinge with margin 0.2 + negative-pair +
    # rank-aware contrastive, from QD-DETR; model.py L331-397).
    saliency_loss=dict(
        type='SaliencyCriterion',
        terms=[
            dict(type='SaliencyHingeLoss', margin=0.2),  # `saliency_margin`
            dict(type='RankContrastiveLoss', with_neg=True, tau=0.5),
            dict(type='NegPairLoss', mode='official'),
        ]),
    # Task-dependent joint loss, paper §4.2 rewrite of eq. (9):
    # exp(-g_mr) L_mr + 2 exp(-g_hd) L_hd + g_mr + g_hd, g initialised to 0,
    # on the raw (unweighted) loss sums (official train.py L71-84).
    joint_loss=dict(
        type='UncertaintyJointLoss',
        mr_keys=('loss_span', 'loss_giou', 'loss_label'),
        hd_keys=('loss_saliency', ),
        hd_factor=2.0,
        mr_factor=1.0,
        init=0.0),
    # Official QVHighlights post-processing: windows clamped to [0, 150] s,
    # rounded to the 2-s clip grid, all 10 kept, no NMS
    # (postprocessing_taskweave.py; inference.py L174-251).
    post_processor=dict(
        type='MomentPostProcessor', clip_len=2.0, min_ts=0.0, max_ts=150.0))
