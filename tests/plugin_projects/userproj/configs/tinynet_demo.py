# A user project's config (default scope `userproj`) that trains its own
# model, TinyMRHDNet, from mmmrhd parts on mmmrhd's demo data, with
# mmmrhd's dataset, pipeline, metric and hooks.
# docs/en/advanced_guides/use_from_other_projects.md; run by
# tests/integration/test_foreign_scopes.py.
default_scope = 'userproj'
# `import mmmrhd` registers all of mmmrhd; then the user's own modules.
custom_imports = dict(
    imports=['mmmrhd', 'userproj.models', 'userproj.transforms',
             'userproj.hooks'],
    allow_failed_imports=False)

data_root = 'data/demo'  # generated on first use (mmmrhd demo data)
load = [
    # inside mmmrhd's dataset, plain names are mmmrhd's transforms ...
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    # ... and a transform of this project needs its prefix there
    dict(type='userproj.RecordQid'),
]
train_pipeline = load + [
    dict(type='GenerateSpanTargets', max_windows=5),
    dict(type='GenerateSaliencyLabels'),
    dict(type='PackMRHDInputs'),
]
val_pipeline = load + [dict(type='PackMRHDInputs')]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mmmrhd.mrhd_collate'),
    dataset=dict(
        type='mmmrhd.DemoQVHighlightsDataset',
        data_root=data_root,
        ann_file='highlight_train_release.jsonl',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mmmrhd.mrhd_collate'),
    dataset=dict(
        type='mmmrhd.DemoQVHighlightsDataset',
        data_root=data_root,
        ann_file='highlight_val_release.jsonl',
        test_mode=True,
        pipeline=val_pipeline))
val_evaluator = [
    dict(type='mmmrhd.QVHighlightsMetric'),
    dict(type='CountPredictions'),  # this project's metric
]
val_cfg = dict()

# this project's model (98 = the demo's 64 + 32 video dims + 2 TEF)
model = dict(type='TinyMRHDNet', video_dim=98, text_dim=32)

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3))
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=5)

custom_hooks = [
    # switches the FeedbackHead inside TinyMRHDNet, from epoch 10
    dict(type='mmmrhd.FeedbackActivationHook', start_epoch=None),
    dict(type='RecordFeedback'),  # this project's hook
]
visualizer = dict(type='mmmrhd.MRHDVisualizer', name='visualizer')
