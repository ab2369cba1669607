# Everything but the model of the CPU demo recipes (configs/*/*_demo.py):
# the embedded synthetic demo data, the AdamW schedule and the runtime, with
# the demo settings shared by all models. The reasons (small clean data,
# short schedule, a 2-core CPU) are in configs/taskweave/taskweave_demo.py:
# * lr 1e-3 instead of 1e-4 and 60 epochs (1,140 steps), validation every 5;
# * no dataloader worker processes: the features are tiny, and on 2 cores a
#   worker competes with the two compute threads. Without workers the random
#   label draws come from the torch RNG, which RNGStateHook checkpoints, so
#   --resume continues exactly as an uninterrupted run;
# * one log line per epoch; keep the best (MR-full-mAP) and the last
#   checkpoint.
# A model's demo config adds its model settings (width 64 / 4 heads / FFN
# 128, all dropouts 0, windows clamped to each video's duration) and its
# own hooks (default_runtime.py: RNGStateHook).
_base_ = [
    './datasets/demo.py',
    './schedules/adamw_200e.py',
    './default_runtime.py',
]

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=60, val_interval=5)

default_hooks = dict(
    logger=dict(interval=19),  # one line per epoch (19 iterations of 32)
    # as the QVHighlights configs: best by MR-full-mAP; keep the last for
    # --resume
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=1,
        save_best='MR-full-mAP',
        rule='greater'))
