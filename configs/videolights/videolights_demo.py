# VideoLights on the embedded synthetic demo data (`make demo`): trains on a
# 2-core CPU in minutes and learns (docs/en/user_guides/videolights.md
# "Demo"; numbers in configs/videolights/README.md).
#
#   python tools/train.py configs/videolights/videolights_demo.py
#
# The demo data (mmmrhd/datasets/demo.py; 600 train / 150 val queries) has
# the QVHighlights layout with small features: video 64 + 32 + 2 TEF = 98,
# text 32. Everything not set here is videolights_qvh.py (paper design):
# same parts, losses, loss weights, adaptive hard-loss schedule (x (epoch +
# 1)), optimizer type, gradient clipping, post-processing, evaluator and
# best-checkpoint score (VideoLights' `stop_score`). What
# differs, as in configs/taskweave/taskweave_demo.py and for the same
# reasons: width 64 / 4 heads / FFN 128, all dropouts 0, lr 1e-3, 60 epochs,
# windows clamped to each video's duration, no dataloader workers.
# Data, schedule and runtime settings shared by the demos (lr, epochs,
# workers, hooks): configs/_base_/demo_runtime.py.
_base_ = [
    '../_base_/models/videolights.py',
    '../_base_/demo_runtime.py',
    '../_base_/evaluation/videolights_stop_score.py',
]

embed_dim = 64
num_heads = 4
ffn_dim = 2 * embed_dim
dropout = 0.0
layer = dict(num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout)

model = dict(
    embed_dim=embed_dim,
    video_proj=dict(
        streams=[
            dict(name='slowfast', dim=64),
            dict(name='clip', dim=32),
            dict(name='tef', dim=2)
        ],
        dropout=dropout),
    text_proj=dict(streams=[dict(name='clip_text', dim=32)], dropout=dropout),
    feature_refinement=dict(dropout=dropout),
    fusion=layer,
    encoder=layer,
    decoder=layer,
    post_processor=dict(max_ts=None))

# as videolights_qvh.py: VideoLights' evaluator and best-model score
val_evaluator = dict(
    variant='videolights',
    empty_bucket='zeros',  # official: zero section for an empty bucket
    composite_scores=dict(stop_score={{_base_.videolights_hl_stop_score}}))
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='stop_score'))

custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='AdaptiveLossScheduleHook'),
]
find_unused_parameters = True
