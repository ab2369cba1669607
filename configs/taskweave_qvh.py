# Alias of configs/taskweave/taskweave_qvh.py (TaskWeave, paper setting,
# QVHighlights), so that `python tools/train.py configs/taskweave_qvh.py`
# works too; the work dir is then work_dirs/taskweave_qvh as well.
_base_ = ['./taskweave/taskweave_qvh.py']
