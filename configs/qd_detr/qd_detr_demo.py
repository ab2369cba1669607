# QD-DETR on the embedded synthetic demo data (`make demo` data): trains on a
# 2-core CPU in a few minutes and learns (numbers in
# configs/qd_detr/README.md).
#
#   python tools/train.py configs/qd_detr/qd_detr_demo.py
#
# The demo data (mmmrhd/datasets/demo.py; 600 train / 150 val queries) has
# the QVHighlights layout with small features: video 64 + 32 + 2 TEF = 98,
# text 32. Everything not set here is the QVHighlights setting of
# qd_detr_qvh.py. What differs, for the same reasons as
# configs/taskweave/taskweave_demo.py: width 64 / 4 heads / FFN 128, all
# dropouts 0, lr 1e-3, 60 epochs, windows clamped to each video's duration,
# no dataloader workers.
# Data, schedule and runtime settings shared by the demos (lr, epochs,
# workers, hooks): configs/_base_/demo_runtime.py.
_base_ = ['../_base_/models/qd_detr.py', '../_base_/demo_runtime.py']

embed_dim = 64
layer = dict(num_heads=4, ffn_dim=2 * embed_dim, dropout=0.0)

model = dict(
    embed_dim=embed_dim,
    video_proj=dict(
        streams=[
            dict(name='slowfast', dim=64),
            dict(name='clip', dim=32),
            dict(name='tef', dim=2)
        ],
        dropout=0.0),
    text_proj=dict(streams=[dict(name='clip_text', dim=32)], dropout=0.0),
    fusion=layer,
    encoder=layer,
    decoder=layer,
    post_processor=dict(max_ts=None))
