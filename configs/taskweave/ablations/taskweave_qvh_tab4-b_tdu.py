# Paper Table 4, row 2: task-decoupled unit only (no inter-task feedback, no
# task-dependent joint loss). Without the joint loss the tasks are combined
# with the usual hand-set weights (our reading: the QD-DETR / Moment-DETR
# weight dict span 10, giou 1, label 4, saliency 1, as in Table 6 "Weighted
# Sum"). Paper: R1@0.7 47.87, MR mAP 43.24, HD mAP 38.58, HIT@1 61.81.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback, model.joint_loss.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']

model = dict(joint_loss=dict(_delete_=True, type='WeightedSumLoss'))
