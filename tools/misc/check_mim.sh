#!/usr/bin/env bash
# Check the OpenMMLab packaging end to end, as a user of the wheel would see
# it (manual / CI-optional; needs PyPI, takes a few minutes):
#   1. build the wheel from a clean copy of the repository (`python -m build`);
#   2. a fresh venv with torch + mmcv-lite as pinned in requirements/runtime.txt,
#      openmim and the wheel;
#   3. from an empty directory: `mim search mmmrhd` (reads
#      mmmrhd/.mim/model-index.yml) and `mim train mmmrhd taskweave_demo.py`
#      for one epoch (finds mmmrhd/.mim/configs/... and runs
#      mmmrhd/.mim/tools/train.py; the demo data is generated on first use).
#
# Usage: bash tools/misc/check_mim.sh [WORK_DIR]
# WORK_DIR (default: a new /tmp/mmmrhd_mim.XXXXXX) is left for inspection.
# Any failing step exits non-zero.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$(mktemp -d /tmp/mmmrhd_mim.XXXXXX)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
PYTHON="${PYTHON:-python3}"
step() { echo "check_mim: $* ($((SECONDS))s)"; }

step "clean copy of $repo"
rm -rf "$work/src"
mkdir -p "$work/src"
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    # tracked and new (not ignored) files: no build/, work_dirs/, data/
    git -C "$repo" ls-files -z -co --exclude-standard \
        | (cd "$repo" && xargs -0 tar cf - --ignore-failed-read) \
        | tar xf - -C "$work/src"
else
    cp -r "$repo"/. "$work/src"
fi

step "fresh venv in $work/venv"
"$PYTHON" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q build
"$py" -m build --wheel --outdir "$work/dist" "$work/src" >"$work/build.log"
wheel="$(ls "$work"/dist/mmmrhd-*.whl)"
step "built $wheel"
# torch first and exactly pinned (unpinned, pip picks a CUDA build); mmcv-lite
# is not a dependency of the wheel (mmcv or mmcv-lite, see get_started.md).
grep -E '^(torch|mmcv-lite|setuptools)\b' "$repo/requirements/runtime.txt" \
    >"$work/pins.txt"
"$py" -m pip install -q -r "$work/pins.txt" openmim
"$py" -m pip install -q "$wheel"

mkdir -p "$work/run"
cd "$work/run"
mim="$work/venv/bin/mim"
step "mim search mmmrhd"
"$mim" search mmmrhd | tee "$work/search.txt"
grep -q taskweave_demo "$work/search.txt"
"$mim" search mmmrhd --model taskweave >/dev/null

step "mim train mmmrhd taskweave_demo.py (1 epoch, CPU)"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$mim" train mmmrhd taskweave_demo.py \
    --gpus 0 --work-dir "$work/run/work_dirs/taskweave_demo" \
    --cfg-options train_cfg.max_epochs=1 train_cfg.val_interval=1 \
    2>&1 | tee "$work/train.log"
ls "$work"/run/work_dirs/taskweave_demo/epoch_1.pth
step "OK: mim search and mim train work from the installed wheel"
