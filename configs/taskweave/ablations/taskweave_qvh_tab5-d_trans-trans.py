# Paper Table 5 (d): MR expert Transformer, HD expert Transformer ("Trans."),
# without inter-task feedback. The paper does not give the experts' layer
# count; we use the shared expert's configuration (2 self-attention layers,
# 8 heads, FFN 1024, dropout 0.1, then max-pool 5; paper §4.2 "All
# Transformer layers follow the consistent configuration").
# Paper: R1@0.7 48.32, MR mAP 42.85, HD mAP 38.61, HIT@1 61.10.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback,
# model.neck.mr_expert, model.neck.hd_expert.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']

model = dict(
    neck=dict(
        mr_expert=dict(
            _delete_=True,
            type='TransformerExpert',
            num_layers=2,
            num_heads=8,
            ffn_dim=1024,
            dropout=0.1,
            pool=dict(type='TemporalMaxPool', kernel_size=5)),
        hd_expert=dict(
            _delete_=True,
            type='TransformerExpert',
            num_layers=2,
            num_heads=8,
            ffn_dim=1024,
            dropout=0.1,
            pool=dict(type='TemporalMaxPool', kernel_size=5))))
