# Paper Table 7, "MR-HD": moment-guided feedback first, then highlightness-
# guided feedback from the guided saliency.
# Paper: R1@0.7 50.0, MR mAP 45.3, HD mAP 38.96, HIT@1 62.45.
# Knobs vs taskweave_qvh.py: model.feedback.manner.
_base_ = ['../taskweave_qvh.py']

model = dict(feedback=dict(manner='mr_hd'))
