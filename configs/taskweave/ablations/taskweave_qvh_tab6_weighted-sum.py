# Paper Table 6, "Weighted Sum": the full model trained on the weighted sum
# with the weights of Moment-DETR / QD-DETR (paper §4.4 "consistent with the
# existing methods"): span 10, giou 1, label 4 (every decoder layer),
# saliency 1 (WeightedSumLoss defaults).
# Paper: R1@0.7 48.32, MR mAP 43.21, HD mAP 38.31, HIT@1 61.35.
# Knobs vs taskweave_qvh.py: model.joint_loss.
_base_ = ['../taskweave_qvh.py']

model = dict(
    joint_loss=dict(
        _delete_=True,
        type='WeightedSumLoss',
        weights=dict(
            loss_span=10.0, loss_giou=1.0, loss_label=4.0,
            loss_saliency=1.0)))
