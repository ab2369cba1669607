# Embedded synthetic demo data in the QVHighlights layout
# (mmmrhd/datasets/demo.py; docs/en/user_guides/demo_data.md). Same shape as
# qvhighlights.py. The data is generated into `data_root` on first use;
# regenerate it by hand with
# `python tools/misc/generate_demo_data.py --out-dir data/demo --seed 0`.
dataset_type = 'DemoQVHighlightsDataset'
data_root = 'data/demo'
# MMEngine storage backend of the annotation and feature files (None: local
# files or by the path's prefix), e.g. backend_args=dict(backend='petrel').
# The dataset passes it on to its loading transforms. Set it in a config as
# train_dataloader = dict(dataset=dict(backend_args=...)) (val, test alike;
# docs/en/user_guides/dataset_prepare.md, "Data on other storage").
backend_args = None
demo_seed = 0  # generator seed, recorded in data_root/demo_meta.json
data_prefix = dict(
    # Concatenated in this order, as QVHighlights: SlowFast (demo 64) then
    # CLIP (demo 32); + 2 TEF columns.
    video=['slowfast_features', 'clip_features'],
    text='clip_text_features')  # CLIP-like tokens (demo 32)

max_v_l = 75  # official max_v_l = the longest demo video (demo MAX_CLIPS)
max_q_l = 32  # official max_q_l; demo queries have at most 12 tokens
v_feat_dim = 64 + 32 + 2  # SLOWFAST_DIM + CLIP_DIM + TEF
t_feat_dim = 32  # TEXT_DIM

train_pipeline = [
    dict(type='LoadVideoFeatures', max_len=max_v_l),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=max_q_l),
    dict(type='GenerateSpanTargets', max_windows=5),  # official max_windows
    dict(type='GenerateSaliencyLabels'),
    dict(type='PackMRHDInputs'),
]
test_pipeline = [
    dict(type='LoadVideoFeatures', max_len=max_v_l),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=max_q_l),
    dict(type='PackMRHDInputs'),
]

train_dataloader = dict(
    batch_size=32,  # official QVHighlights `--bsz` 32
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='highlight_train_release.jsonl',
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=2.0,  # demo CLIP_LEN, as QVHighlights `--clip_length` 2
        seed=demo_seed,
        pipeline=train_pipeline))
# The demo has no test split: validation and test both use the val split.
val_dataloader = dict(
    batch_size=100,  # official QVHighlights `--eval_bsz` 100
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='highlight_val_release.jsonl',
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=2.0,
        seed=demo_seed,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='QVHighlightsMetric')
test_evaluator = val_evaluator
