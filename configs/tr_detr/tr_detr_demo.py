# TR-DETR on the embedded synthetic demo data: trains on a 2-core CPU in a
# few minutes and learns (numbers in configs/tr_detr/README.md).
#
#   python tools/train.py configs/tr_detr/tr_detr_demo.py
#
# Demo data (mmmrhd/datasets/demo.py): QVHighlights layout, video 64 + 32
# + 2 TEF = 98, text 32; 600 train / 150 val queries. Everything not set
# here is the QVHighlights recipe of tr_detr_qvh.py (paper-intent model,
# same parts, losses and weights, optimizer type, gradient clipping,
# post-processing, metric). What differs, for the same reasons as
# configs/taskweave/taskweave_demo.py (small clean data, short schedule,
# CPU): width 64 / 4 heads / FFN 128, all dropouts 0, lr 1e-3, 60 epochs,
# windows clamped to each video's duration, no dataloader workers.
# Data, schedule and runtime settings shared by the demos (lr, epochs,
# workers, hooks): configs/_base_/demo_runtime.py.
_base_ = ['../_base_/models/tr_detr.py', '../_base_/demo_runtime.py']

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
    refiner=dict(dropout=dropout),
    fusion=layer,
    encoder=layer,
    decoder=layer,
    post_processor=dict(max_ts=None))

train_pipeline = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='GenerateSpanTargets', max_windows=5),
    dict(type='GenerateSaliencyLabels'),
    dict(type='GeneratePositiveClipMask', mode='relevant'),
    dict(type='PackMRHDInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

custom_hooks = [dict(type='RNGStateHook')]  # no EMA in TR-DETR
