# Paper Table 4, row 1: no task-decoupled unit, no inter-task feedback, no
# task-dependent joint loss: the shared expert (2-layer encoder + max-pool)
# feeds both decoders directly (SharedExpertNeck; X_mr = X_hd = S(Z)), and
# the tasks are combined with the hand-set weights 10/1/4/1 as in row 2.
# Paper: R1@0.7 46.26, MR mAP 41.0, HD mAP 38.94, HIT@1 62.84.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback, model.joint_loss,
# model.neck.
_base_ = ['./taskweave_qvh_tab4-b_tdu.py']

model = dict(neck=dict(_delete_=True, type='SharedExpertNeck'))
