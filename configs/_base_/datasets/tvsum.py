# TVSum (query-based highlight detection), QD-DETR/UMT split with UMT's I3D
# features; official settings of taskweave/scripts/tvsum/train_tvsum.sh
# (same as QD-DETR's). One model per domain: override `domain` in BOTH
# dataloaders, e.g.
#   train_dataloader = dict(dataset=dict(domain='BT'))
#   val_dataloader = dict(dataset=dict(domain='BT'))
#   test_dataloader = val_dataloader
# See docs/en/user_guides/dataset_prepare.md.
dataset_type = 'TVSumDataset'
data_root = 'data/tvsum/'
# MMEngine storage backend of the annotation and feature files (None: local
# files or by the path's prefix), e.g. backend_args=dict(backend='petrel').
# The dataset passes it on to its loading transforms. Set it in a config as
# train_dataloader = dict(dataset=dict(backend_args=...)) (val, test alike;
# docs/en/user_guides/dataset_prepare.md, "Data on other storage").
backend_args = None
domain = 'BK'
data_prefix = dict(
    video='features/video_features',  # <vid>_rgb.npy + <vid>_opt.npy
    text='features/query_features')  # <qid>.npz, key 'token'

train_pipeline = [
    # RGB (1024) + flow (1024) form one stream, normalised together (2048,
    # + 2 TEF = 2050); `--max_v_l 1000`.
    dict(
        type='LoadVideoFeatures',
        file_template=['{vid}_rgb.npy', '{vid}_opt.npy'],
        key=None,
        max_len=1000),
    dict(type='AppendTEF'),
    # Official TVSum text path: key 'token', no truncation, no L2 norm.
    dict(
        type='LoadTextFeatures',
        file_template='{qid}.npz',
        key='token',
        max_len=None,
        normalize=False),
    # One hard pair (argmax/argmin of agg), no easy pairs; labels beyond the
    # features are dropped (official `agg_scores[:ctx_l]`).
    dict(type='GenerateSaliencyLabels', add_easy=False, overflow='drop'),
    dict(type='PackMRHDInputs'),
]
test_pipeline = [
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
    dict(type='PackMRHDInputs'),
]

train_dataloader = dict(
    batch_size=4,  # official `bsz=4`
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/tvsum_train.jsonl',
        domain=domain,
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=2.0,  # 2-s shots (config default `--clip_length` 2)
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,  # config default `--eval_bsz` 100 (1 val video/domain)
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mrhd_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/tvsum_val.jsonl',
        domain=domain,
        data_prefix=data_prefix,
        backend_args=backend_args,
        clip_len=2.0,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='TVSumMetric')
test_evaluator = val_evaluator
