# Feature extraction exactly as the released QVHighlights features
# (linjieli222/HERO_Video_Feature_Extractor; all five models use them):
#   slowfast_features: PySlowFast SLOWFAST_8x8_R50 (Kinetics-400 Caffe2
#     weights), ffmpeg fps=30 -> scale short side 224 (bicubic) -> centre
#     crop 224 -> rgb24, 2-s clips, 2304-d, float16
#   clip_features: OpenAI CLIP ViT-B/32 (QuickGELU) encode_image, fps=0.5
#     (the middle frame of each 2-s clip), 512-d, float16
#   clip_text_features (--text): SOT + first 30 BPE + EOT,
#     last_hidden_state (no projection) and pooler_output
# Weights are local files (no download):
#   checkpoints/SLOWFAST_8x8_R50.pkl  PySlowFast model zoo (Caffe2 .pkl)
#   checkpoints/ViT-B-32.pt           OpenAI CLIP (TorchScript archive or a
#                                     state dict with OpenAI/open_clip names)
# The text tokenizer needs the optional open_clip_torch package.
default_scope = 'mmmrhd'
recipe = ('HERO QVHighlights: SlowFast 8x8 R50 K400 (2304) + CLIP ViT-B/32 '
          '(512), 2-s clips, float16')
slowfast_weights = 'checkpoints/SLOWFAST_8x8_R50.pkl'
clip_weights = 'checkpoints/ViT-B-32.pt'
clip_len = 2
# 'pyav' reproduces HERO's ffmpeg command bitwise; 'decord' is faster but
# resizes with OpenCV (close, not bitwise).
backend = 'pyav'

extractor = dict(
    type='VideoFeatureExtractor',
    streams=[
        dict(
            type='SlowFastFeatureStream',
            backbone=dict(type='SlowFastR50'),
            pretrained=slowfast_weights,
            clip_len=clip_len,
            target_fps=30,
            num_frames=32,
            sampling_rate=2,
            backend=backend,
            batch_size=4),
        dict(
            type='CLIPFeatureStream',
            backbone=dict(
                type='CLIPVisionAdapter',
                arch='ViT-B-32-quickgelu',
                pretrained=clip_weights),
            clip_len=clip_len,
            backend=backend,
            batch_size=64),
    ],
    text_encoder=dict(
        type='CLIPTextAdapter',
        arch='ViT-B-32-quickgelu',
        pretrained=clip_weights,
        tokenizer='open_clip',
        max_bpe_tokens=30),
    storage_dtype='float16')
