# TR-DETR on TVSum (query-based highlight detection), one model per domain.
#
# The released TVSum script (tr_detr/scripts/tvsum/train_tvsum.sh) cannot
# run as shipped (it calls qd_detr/train.py, which is not in the repo, with
# an undefined $seed; models.md §4.5). Its intended settings, used here: I3D
# RGB+flow (2048) + TEF, CLIP title tokens (`token`, 512, not normalised),
# batch 4, lr 1e-3, max_v_l 1000, 2000 epochs, VTC 0.5 / CTC 2, pos_mask =
# the top half of the clips by score (start_end_dataset.py L109-140).
# Our choices: HD only (no matcher or moment losses, as the
# QD-DETR/TaskWeave TVSum runs; TVSum has no moments), and the MR2HD
# feedback kept (it reads the untrained decoder's top span, as the release
# would). Paper TVSum numbers: not reproduced here.
#
#   python tools/train.py configs/tr_detr/tr_detr_tvsum.py \
#       --work-dir work_dirs/tr_detr_tvsum_BT --cfg-options \
#       train_dataloader.dataset.domain=BT val_dataloader.dataset.domain=BT \
#       test_dataloader.dataset.domain=BT
_base_ = [
    '../_base_/models/tr_detr.py',
    '../_base_/datasets/tvsum.py',
    '../_base_/schedules/adamw_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    video_proj=dict(streams=[
        dict(name='i3d', dim=2048),
        dict(name='tef', dim=2),
    ]),
    text_proj=dict(streams=[dict(name='clip_text', dim=512)]),
    moment_loss=None,
    joint_loss=dict(
        _delete_=True,
        type='WeightedSumLoss',
        weights=dict(loss_saliency=1.0, loss_vtc=0.5, loss_ctc=2.0),
        aux=False),
    post_processor=dict(clip_len=2.0, max_ts=None))

train_pipeline = [
    dict(
        type='LoadVideoFeatures',
        file_template=['{vid}_rgb.npy', '{vid}_opt.npy'],
        key=None,
        max_len=1000),
    dict(type='AppendTEF'),
    dict(
        type='LoadTextFeatures',
        file_template='{qid}.npz',
        key='token',
        max_len=None,
        normalize=False),
    dict(type='GenerateSaliencyLabels', add_easy=False, overflow='drop'),
    dict(type='GeneratePositiveClipMask', mode='top_half'),
    dict(type='PackMRHDInputs'),
]
train_dataloader = dict(
    persistent_workers=False, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='StepLR', step_size=2000, gamma=0.1, by_epoch=True),
]
train_cfg = dict(max_epochs=2000, val_interval=5)
auto_scale_lr = dict(base_batch_size=4)

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=50,
        max_keep_ckpts=1,
        save_best='mAP',
        rule='greater'),
    logger=dict(interval=10))

custom_hooks = [dict(type='RNGStateHook')]

# The moment decoder and heads get no gradient (HD only).
find_unused_parameters = True
