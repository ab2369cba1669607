# Paper Table 7, "HD-MR": highlightness-guided feedback first, then moment-
# guided feedback from the guided moments.
# Paper: R1@0.7 49.1, MR mAP 44.87, HD mAP 39.03, HIT@1 59.94.
# Knobs vs taskweave_qvh.py: model.feedback.manner.
_base_ = ['../taskweave_qvh.py']

model = dict(feedback=dict(manner='hd_mr'))
