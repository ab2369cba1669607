# Paper Table 5 (f): MR expert CNN, HD expert identity (TaskWeave's choice),
# trained without inter-task feedback ("The results in Tab. 5 are obtained by
# TaskWeave without inter-task feedback", paper §4.4). The base of the other
# Table 5 and Table 4 configs; without a FeedbackHead the
# FeedbackActivationHook is dropped (it refuses a model with nothing to
# switch). Paper: R1@0.7 49.29, MR mAP 45.12, HD mAP 38.96, HIT@1 62.0.
# Knobs vs taskweave_qvh.py: custom_hooks, model.feedback.
_base_ = ['../taskweave_qvh.py']

model = dict(feedback=None)

# taskweave_qvh.py's hooks without FeedbackActivationHook
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='EpochEMAHook', momentum=0.1),
]
