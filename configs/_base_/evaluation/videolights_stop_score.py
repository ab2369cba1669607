# VideoLights' best-checkpoint rule: dpaul06/VideoLights @ 76308bb0
# video_lights/train.py `calculate_stop_score` (L104-136), called on the
# brief metrics of every evaluation (L203); the checkpoint with the highest
# score is kept (`stop_score > prev_best_score`, L205). The weights are
# divided by their sum. TVSum runs `train_hl` instead, which keeps the best
# plain `mAP` (L312).
#
# Use as a composite score of the evaluator and name it in save_best:
#   val_evaluator = dict(composite_scores=dict(
#       stop_score={{_base_.videolights_hl_stop_score}}))
#   default_hooks = dict(checkpoint=dict(save_best='stop_score'))

# `dset_name == 'hl'` (QVHighlights layout). MR-full-R1@0.3 needs the
# evaluator variant 'videolights' (VideoLights' standalone_eval/eval.py).
videolights_hl_stop_score = dict(
    weights={
        'MR-full-R1@0.3': 0.3,
        'MR-full-R1@0.5': 0.5,
        'MR-full-R1@0.7': 0.7,
        'MR-full-mAP@0.5': 0.5,
        'MR-full-mAP@0.75': 0.75,
        'MR-full-mAP': 0.25,
        'MR-long-mAP': 0.25,
        'MR-middle-mAP': 0.25,
        'MR-short-mAP': 0.25,
    })

# Every other dataset (Charades-STA, TACoS, ...): R1 and mIoU only.
videolights_other_stop_score = dict(
    weights={
        'MR-full-R1@0.3': 0.3,
        'MR-full-R1@0.5': 0.5,
        'MR-full-R1@0.7': 0.7,
        'MR-full-mIoU': 0.5,
    })
