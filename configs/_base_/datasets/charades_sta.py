# Charades-STA (moment retrieval) with the SlowFast + CLIP features used by
# CG-DETR / VideoLights / QD-DETR. None of TaskWeave, TR-DETR, QD-DETR ships
# a Charades script; the values follow VideoLights
# video_lights/scripts/charades_sta/train_from_pretrain_clip-sf.sh (the
# SlowFast + CLIP variant). See docs/en/user_guides/dataset_prepare.md.
dataset_type = 'CharadesSTADataset'
data_root = 'data/charades_sta/'
# MMEngine storage backend of the annotation and feature files (None: local
# files or by the path's prefix), e.g. backend_args=dict(backend='petrel').
# The dataset passes it on to its loading transforms. Set it in a config as
# train_dataloader = dict(dataset=dict(backend_args=...)) (val, test alike;
# docs/en/user_guides/dataset_prepare.md, "Data on other storage").
backend_args = None
data_prefix = dict(
    video=['features/slowfast_features', 'features/clip_features'],
    text='features/clip_text_features')

train_pipeline = [
    dict(type='LoadVideoFeatures', max_len=75),  # VideoLights `--max_v_l` 75
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),  # config default max_q_l 32
    dict(type='GenerateSpanTargets', max_windows=5),
    # Pseudo saliency labels from the window for the joint models' HD
    # losses (VideoLights/CG-DETR `get_saliency_labels_sub_as_query`,
    # max_n = 2). Remove for a pure MR model.
    dict(type='GenerateWindowSaliencyLabels', num_pairs=2),
    dict(type='PackMRHDInputs'),
]
test_pipeline = [
    dict(type='LoadVideoFeatures', max_len=75),
    dict(type='AppendTEF'),
    dict(type='LoadTextFeatures', max_len=32),
    dict(type='PackMRHDInputs'),
]

train_dataloader = dict(
    batch_size=32,  # VideoLights `bsz=32`
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/charades_sta_train_tvr_format.jsonl',
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=1.0,  # `--clip_length 1` (one feature clip per second)
        pipeline=train_pipeline))
# Charades-STA has no val split: the official scripts evaluate on test.
val_dataloader = dict(
    batch_size=4,  # VideoLights `eval_bsz=4`
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/charades_sta_test_tvr_format.jsonl',
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=1.0,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='CharadesSTAMetric')
test_evaluator = val_evaluator
