# The mixed-parts model of taskweave_tr-align_qvh.py (TaskWeave + TR-DETR's
# CTC / VTC alignment losses) on the embedded synthetic demo data, with the
# demo settings of configs/taskweave/taskweave_demo.py (width 64, no
# dropout, lr 1e-3, 60 epochs, CPU friendly).
#
#   python tools/train.py configs/mixed/taskweave_tr-align_demo.py
_base_ = ['../taskweave/taskweave_demo.py']

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
