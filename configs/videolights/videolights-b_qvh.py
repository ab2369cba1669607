# VideoLights-B on QVHighlights: SlowFast + CLIP + BLIP-2 video features
# (2304 + 512 + 768 + 2 TEF = 3586) and CLIP + BLIP text tokens (512 + 768 =
# 1280; each source L2-normalised, cut to the shorter token count, then
# concatenated), official scripts/qvhl/train.sh. The BLIP features come from
# the authors' own release (models.md §5.1), laid out as
#   data/qvhighlights/features/blip_video_features/<vid>.npz  ('features')
#   data/qvhighlights/features/blip_aug_text_features_openai/qid<qid>.npz
#
# Paper (Table II, test): MR mAP 46.53 / HD mAP 42.43 (reported; not
# reproduced here).
_base_ = ['./videolights_qvh.py']

video_streams = [
    dict(name='slowfast', dim=2304),
    dict(name='clip', dim=512),
    dict(name='blip', dim=768),
    dict(name='tef', dim=2),
]
text_streams = [
    dict(name='clip_text', dim=512),
    dict(name='blip_text', dim=768),
]
data_prefix = dict(
    video=[
        'features/slowfast_features', 'features/clip_features',
        'features/blip_video_features'
    ],
    text=[
        'features/clip_text_features',
        'features/blip_aug_text_features_openai'
    ])

model = dict(
    video_proj=dict(streams=video_streams),
    text_proj=dict(streams=text_streams))

train_dataloader = dict(dataset=dict(data_prefix=data_prefix))
val_dataloader = dict(dataset=dict(data_prefix=data_prefix))
test_dataloader = dict(dataset=dict(data_prefix=data_prefix))
