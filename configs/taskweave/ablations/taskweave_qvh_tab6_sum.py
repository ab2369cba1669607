# Paper Table 6, "Sum": the full model (moment-guided feedback) trained on the
# unweighted L_mr + L_hd (raw MR losses of every decoder layer + the saliency
# loss) instead of the task-dependent joint loss.
# Paper: R1@0.7 47.68, MR mAP 44.27, HD mAP 38.7, HIT@1 60.32.
# Knobs vs taskweave_qvh.py: model.joint_loss.
_base_ = ['../taskweave_qvh.py']

model = dict(joint_loss=dict(_delete_=True, type='SumLoss'))
