# VideoLights on QVHighlights with SlowFast + CLIP features (the paper's
# "VideoLights" row, no BLIP; official
# scripts/qvhl/train_from_pretrain-sf_clip.sh without the pretraining
# checkpoint): paper design, AdamW 1e-4 / 1e-4, 200 epochs, batch 32,
# gradient clipping 0.1, validation every 5 epochs, no EMA.
#
#   python tools/train.py configs/videolights/videolights_qvh.py
#   python tools/test.py configs/videolights/videolights_qvh.py \
#       work_dirs/videolights_qvh/best_MR-full-mAP_epoch_*.pth
#
# Paper (Table II, test): MR mAP 43.38 / HD mAP 40.57 (reported; NOT
# reproduced here: no GPU run, docs/en/user_guides/videolights.md).
_base_ = [
    '../_base_/models/videolights.py',
    '../_base_/datasets/qvhighlights.py',
    '../_base_/schedules/adamw_200e.py',
    '../_base_/default_runtime.py',
]

# Exact resume (see configs/taskweave/taskweave_qvh.py).
train_dataloader = dict(persistent_workers=False)

default_hooks = dict(
    # The official run keeps the best of a weighted composite of R1@0.3/0.5/
    # 0.7, mAP@0.5/0.75 and full/long/middle/short mAP (train.py L104-136);
    # we keep the best MR-full-mAP (the moment_detr family's key) and save
    # every evaluation so any rule can be applied afterwards.
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=2,
        save_best='MR-full-mAP',
        rule='greater'))

custom_hooks = [
    dict(type='RNGStateHook'),
    # Hard positive/negative losses x (epoch + 1): official
    # `criterion(outputs, targets, epoch_i)` (train.py L66, model.py L407).
    dict(type='AdaptiveLossScheduleHook'),
]
find_unused_parameters = True
