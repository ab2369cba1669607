# Paper Table 5 (a): MR expert identity, HD expert identity ("Iden."; the HD
# expert is already the identity in TaskWeave), without inter-task feedback.
# Paper: R1@0.7 44.77, MR mAP 40.23, HD mAP 38.38, HIT@1 60.19.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback,
# model.neck.mr_expert.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']

model = dict(neck=dict(mr_expert=dict(_delete_=True, type='IdentityExpert')))
