# The released code with its MR2HD block swapped in (the maintainer's
# instruction, EdenGabriel/TaskWeave issue #4): official_compat=True with
# moment-guided feedback on the official 150-s / 75-clip grid (QVHighlights
# only: any other clip count raises) and the HD sum term on the unmasked
# features. This is the run results/best_model_mr (val MR-full-mAP 45.38,
# R1@0.5 64.26, R1@0.7 50.06 = paper Table 3 MR columns; best at 0-based
# epoch 179).
_base_ = ['./taskweave_qvh_official.py']

model = dict(feedback=dict(manner='mr2hd'))
