# Moment-DETR on QVHighlights as released (jayleicn/moment_detr at
# b7e553ac). Paper and code compute the same maths; official_compat=True
# only keeps the unused text positional embedding, so the released
# checkpoint (tools/model_converters/moment_detr_official_to_mmmrhd.py)
# loads strictly and ../shared/fixtures/momentdetr.pth is reproduced
# (tests/models/test_official_parity.py).
_base_ = ['./moment_detr_qvh.py']

model = dict(official_compat=True)
