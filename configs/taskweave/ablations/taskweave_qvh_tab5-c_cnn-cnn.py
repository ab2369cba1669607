# Paper Table 5 (c): MR expert CNN (TaskWeave's), HD expert CNN (depth-wise
# conv k5 + channel LayerNorm + 1x1 conv), without inter-task feedback.
# Paper: R1@0.7 49.23, MR mAP 43.73, HD mAP 38.82, HIT@1 60.77.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback,
# model.neck.hd_expert.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']

model = dict(
    neck=dict(hd_expert=dict(_delete_=True, type='CNNExpert', kernel_size=5)))
