# VideoLights on TVSum (query-based highlight detection), one model per
# domain, official scripts/tvsum/train.sh: I3D RGB+flow (2048) + TEF, CLIP
# title tokens (512, `token`, not normalised), batch 4, lr 1e-3, max_v_l
# 1000, 2000 epochs (`lr_drop` 2000), hard loss coefficient 1, cos-sim
# coefficient 1 (the script sweeps 1 / 5 / 10), Uni-JFM on. The official
# TVSum criterion runs without the matcher (`use_matcher=False`): only
# `loss_saliency` is trained, so the contrastive-align coefficient 0.8 of
# the script has no effect and the moment/alignment losses are off here.
#
#   python tools/train.py configs/videolights/videolights_tvsum.py \
#       --work-dir work_dirs/videolights_tvsum_BT --cfg-options \
#       train_dataloader.dataset.domain=BT val_dataloader.dataset.domain=BT \
#       test_dataloader.dataset.domain=BT
_base_ = [
    '../_base_/models/videolights.py',
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
    align_loss=None,
    saliency_loss=dict(terms=[
        dict(type='SaliencyHingeLoss', margin=0.2),
        dict(type='RankContrastiveLoss', with_neg=True, tau=0.5),
        dict(type='NegPairLoss', mode='official'),
        dict(type='SaliencyCosSimLoss', loss_weight=1.0),
        dict(
            type='SaliencyCosSimLoss',
            score_key='saliency_scores_mr',
            name='mr_to_hd',
            loss_weight=1.0),
        dict(type='AdaptiveHardSaliencyLoss', part='neg', loss_weight=1.0),
        dict(type='AdaptiveHardSaliencyLoss', part='pos', loss_weight=1.0),
    ]),
    joint_loss=dict(
        _delete_=True,
        type='WeightedSumLoss',
        weights=dict(loss_saliency=1.0),
        aux=False),
    post_processor=dict(clip_len=2.0, max_ts=None))

optim_wrapper = dict(optimizer=dict(lr=1e-3))  # `lr` 1e-3
param_scheduler = [
    dict(type='StepLR', step_size=2000, gamma=0.1, by_epoch=True),
]
train_cfg = dict(max_epochs=2000, val_interval=5)
auto_scale_lr = dict(base_batch_size=4)
train_dataloader = dict(persistent_workers=False)

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=50,
        max_keep_ckpts=1,
        save_best='mAP',
        rule='greater'),
    logger=dict(interval=10))

custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='AdaptiveLossScheduleHook'),
]
# The moment decoder only feeds Uni-JFM (its heads get no gradient).
find_unused_parameters = True
