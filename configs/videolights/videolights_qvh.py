# VideoLights on QVHighlights with SlowFast + CLIP features (the paper's
# "VideoLights" row, no BLIP; official
# scripts/qvhl/train_from_pretrain-sf_clip.sh without the pretraining
# checkpoint): paper design, AdamW 1e-4 / 1e-4, 200 epochs, batch 32,
# gradient clipping 0.1, validation every 5 epochs, no EMA.
#
#   python tools/train.py configs/videolights/videolights_qvh.py
#   python tools/test.py configs/videolights/videolights_qvh.py \
#       work_dirs/videolights_qvh/best_stop_score_epoch_*.pth
#
# Paper (Table II, test): MR mAP 43.38 / HD mAP 40.57 (reported; NOT
# reproduced here: no GPU run, docs/en/user_guides/videolights.md).
_base_ = [
    '../_base_/models/videolights.py',
    '../_base_/datasets/qvhighlights.py',
    '../_base_/schedules/adamw_200e.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/videolights_stop_score.py',
]

# Exact resume (see configs/taskweave/taskweave_qvh.py).
train_dataloader = dict(persistent_workers=False)

# VideoLights' evaluator (adds MR-full-R1@0.3 and MR-full-mIoU) and its
# best-model score: the weighted mean of R1@0.3/0.5/0.7, mAP@0.5/0.75 and
# full/long/middle/short mAP (official train.py `calculate_stop_score`,
# configs/_base_/evaluation/videolights_stop_score.py).
val_evaluator = dict(
    variant='videolights',
    empty_bucket='zeros',  # official: zero section for an empty bucket
    composite_scores=dict(stop_score={{_base_.videolights_hl_stop_score}}))
test_evaluator = val_evaluator

default_hooks = dict(
    # official: evaluate every 5 epochs, keep the best `stop_score`
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=2,
        save_best='stop_score',
        rule='greater'))

custom_hooks = [
    dict(type='RNGStateHook'),
    # Hard positive/negative losses x (epoch + 1): official
    # `criterion(outputs, targets, epoch_i)` (train.py L66, model.py L407).
    dict(type='AdaptiveLossScheduleHook'),
]
find_unused_parameters = True
