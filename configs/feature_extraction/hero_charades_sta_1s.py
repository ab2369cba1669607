# Charades-STA "SF+C" features: the HERO recipe with 1-s clips (one
# SlowFast row and one CLIP frame per second; the same 32 x 2 fast-frame
# sampling, clamped to the 30 frames of a clip, as HERO's code does for
# clip_len=1). The exact settings of the released Charades-STA files are
# not published; see docs/en/user_guides/feature_extraction.md.
_base_ = './hero_qvhighlights.py'
recipe = ('HERO recipe, 1-s clips (Charades-STA SF+C): SlowFast 8x8 R50 '
          'K400 (2304) + CLIP ViT-B/32 (512), float16')
# Lists replace the base's: both streams are repeated in full.
extractor = dict(streams=[
    dict(
        type='SlowFastFeatureStream',
        backbone=dict(type='SlowFastR50'),
        pretrained='checkpoints/SLOWFAST_8x8_R50.pkl',
        clip_len=1,
        backend='pyav',
        batch_size=4),
    dict(
        type='CLIPFeatureStream',
        backbone=dict(
            type='CLIPVisionAdapter',
            arch='ViT-B-32-quickgelu',
            pretrained='checkpoints/ViT-B-32.pt'),
        clip_len=1,
        backend='pyav',
        batch_size=64),
])
