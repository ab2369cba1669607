# Paper Table 7, "Bi-MRHD": moment- and highlightness-guided feedback
# simultaneously, both masks from the feedback-free predictions of the same
# pass.
# Paper: R1@0.7 48.84, MR mAP 45.1, HD mAP 38.36, HIT@1 61.81.
# Knobs vs taskweave_qvh.py: model.feedback.manner.
_base_ = ['../taskweave_qvh.py']

model = dict(feedback=dict(manner='bi'))
