# Paper Table 5 (b): MR expert one Linear layer (Line.), HD expert one Linear
# layer (Line.), without inter-task feedback.
# Paper: R1@0.7 47.55, MR mAP 43.65, HD mAP 38.32, HIT@1 60.77.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback,
# model.neck.mr_expert, model.neck.hd_expert.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']

model = dict(
    neck=dict(
        mr_expert=dict(_delete_=True, type='LinearExpert'),
        hd_expert=dict(_delete_=True, type='LinearExpert')))
