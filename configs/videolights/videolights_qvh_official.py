# VideoLights on QVHighlights (SlowFast + CLIP), the RELEASED code's
# behaviour (official_compat=True): input-independent FR correlation branch,
# Bi-CMF without the FFN residual and LN2 and with the batch/head-misordered
# attention masks, Uni-JFM slicing as released, batch-global cos-sim
# normalisation with SUM reductions, hard losses as MSE over all B x L
# entries, plus the two unused official modules (10,399,975 parameters).
# This is the model of the parity fixture ../shared/fixtures/videolights.pth
# and of converted official checkpoints:
#
#   python tools/model_converters/videolights_official_to_mmmrhd.py \
#       model_best.ckpt videolights_official.pth
#   python tools/test.py configs/videolights/videolights_qvh_official.py \
#       videolights_official.pth
_base_ = ['./videolights_qvh.py']

model = dict(official_compat=True)
