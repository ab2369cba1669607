# Paper Table 4, row 3: task-decoupled unit + task-dependent joint loss, no
# inter-task feedback. The same model as Table 5 (f) (CNN / identity experts
# without feedback). Paper: R1@0.7 49.29, MR mAP 45.12, HD mAP 38.96,
# HIT@1 62.0.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback.
_base_ = ['./taskweave_qvh_tab5-f_cnn-iden.py']
