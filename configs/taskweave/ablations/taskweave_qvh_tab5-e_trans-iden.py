# Paper Table 5 (e): MR expert Transformer ("Trans.", configured as in
# taskweave_qvh_tab5-d_trans-trans.py), HD expert identity, without
# inter-task feedback.
# Paper: R1@0.7 47.1, MR mAP 42.1, HD mAP 38.7, HIT@1 61.68.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback,
# model.neck.mr_expert.
_base_ = ['./taskweave_qvh_tab5-d_trans-trans.py']

model = dict(neck=dict(hd_expert=dict(_delete_=True, type='IdentityExpert')))
