# Mixed parts: TaskWeave with TR-DETR's local/global alignment losses on the
# projected features in front of the task-decoupled unit (issue 8 item 1).
#
# The model is configs/taskweave/taskweave_qvh.py (paper TaskWeave, MR2HD
# feedback, uncertainty joint loss, EMA); added:
# * ClipTextAlignmentLoss (CTC) and VideoTextContrastiveLoss (VTC), TR-DETR's
#   alignment of the projected clip / token features (the input of the T2V
#   fusion, i.e. in front of the task-decoupled unit), paper-intent masking;
# * the pos_mask target (GeneratePositiveClipMask) in the train pipeline.
# Weights: TR-DETR's released 0.3 (VTC) / 0.5 (CTC), set on the terms
# (`loss_weight`) because TaskWeave's uncertainty joint loss sums raw loss
# terms; both join its HD group (the MR group expects auxiliary-layer copies
# of every key). This combination has no published result: it is a
# starting point for experiments, not a reproduction.
#
#   python tools/train.py configs/mixed/taskweave_tr-align_qvh.py
_base_ = ['../taskweave/taskweave_qvh.py']

model = dict(
    extra_losses=[
        dict(type='VideoTextContrastiveLoss', loss_weight=0.3),
        dict(type='ClipTextAlignmentLoss', loss_weight=0.5),
    ],
    joint_loss=dict(hd_keys=('loss_saliency', 'loss_vtc', 'loss_ctc')))

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadVideoFeatures', max_len=75),
        dict(type='AppendTEF'),
        dict(type='LoadTextFeatures', max_len=32),
        dict(type='GenerateSpanTargets', max_windows=5),
        dict(type='GenerateSaliencyLabels'),
        dict(type='GeneratePositiveClipMask', mode='relevant'),
        dict(type='PackMRHDInputs'),
    ]))
