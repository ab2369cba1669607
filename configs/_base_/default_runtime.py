# Runtime defaults shared by every mmmrhd config (MMEngine classic config).
# Model configs inherit this file and override what they need (checkpoint
# interval, ``save_best``, validation interval ...).

# Build ``type='...'`` names in the mmmrhd registries first, then MMEngine's.
default_scope = 'mmmrhd'

# MMEngine's Runner plus strict checkpoint loading, atomic checkpoint saving
# and a resume that never silently starts from scratch
# (mmmrhd.engine.runner.MRHDRunner; docs/en/user_guides/checkpoints.md).
runner_type = 'MRHDRunner'
# A checkpoint loaded into the model (load_from, --resume, tools/test.py
# CONFIG CKPT, init_cfg=Pretrained) must fit it exactly: same keys, same
# shapes. ``--cfg-options strict_load=False`` loads only the matching weights
# (fine-tuning from another model), with a warning listing the rest.
strict_load = True

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # No ``save_best`` here: 'auto' infers the comparison rule from the metric
    # name and cannot tell for names like 'MR-full-R1@0.5', so each model
    # config names its metric explicitly, e.g.
    # ``checkpoint=dict(save_best='MR-full-mAP', rule='greater')`` (the
    # official selection, moment_detr/train.py:
    # ``stop_score = metrics["brief"]["MR-full-mAP"]``).
    # Under the mmmrhd scope this is mmmrhd's interruption-safe subclass
    # (mmmrhd.engine.hooks.SafeCheckpointHook): old checkpoints are deleted
    # only after the new one is complete, last_checkpoint is written
    # atomically, the best checkpoints are recorded in best_checkpoints.json.
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # NCCL for GPUs; 'gloo' is the CPU process-group backend
    # (``--cfg-options env_cfg.dist_cfg.backend=gloo``). Note that MMEngine
    # 0.10.7's pytorch launcher calls torch.cuda.set_device, so launcher runs
    # (tools/dist_train.sh) need GPUs anyway; CPU runs are single-process.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
# MRHDVisualizer plots moments and saliency (tools/test.py --show-dir).
visualizer = dict(
    type='MRHDVisualizer', vis_backends=vis_backends, name='visualizer')

# The training log line shows the loss totals (loss, loss_mr, loss_hd) and
# how many terms it leaves out; every term (~20 per iteration) is in the
# visualizer's scalars (work_dir/<timestamp>/vis_data/scalars.json).
# ``show_all=True`` prints every term, ``line_keys=[...]`` chooses the shown
# ones (mmmrhd.engine.runner.MRHDLogProcessor).
log_processor = dict(
    type='MRHDLogProcessor',
    window_size=50,
    by_epoch=True,
    line_keys=['loss', 'loss_mr', 'loss_hd'],
    show_all=False)
log_level = 'INFO'

load_from = None
resume = False

# Seed 2018 is the official default of the whole Moment-DETR family
# (moment_detr/config.py ``--seed`` default; TaskWeave, QD-DETR and TR-DETR
# keep it). The official code does not enable cuDNN determinism either.
randomness = dict(seed=2018, deterministic=False)

# Global RNG states go into every checkpoint and are restored on resume, and
# validation runs on a snapshot of them: resumed runs and runs with another
# validation interval follow the uninterrupted trajectory exactly
# (mmmrhd.engine.hooks.RNGStateHook). Model configs that set their own
# ``custom_hooks`` list it again.
custom_hooks = [dict(type='RNGStateHook')]
