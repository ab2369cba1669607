# GNU make. `make demo` and `make test` work on a fresh clone: both create the
# virtual environment first (once; see `venv`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Touched after a successful install; pip runs again only when one of the
# requirement files or pyproject.toml is newer.
STAMP := $(VENV)/.mmmrhd-installed
REQS := requirements/runtime.txt requirements/tests.txt \
        requirements/docs.txt requirements/constraints.txt pyproject.toml

DEMO_DIR := data/demo
DEMO_CFG := configs/taskweave/taskweave_demo.py
DEMO_WORK := work_dirs/taskweave_demo
DEMO_OUT := work_dirs/demo_baseline
DEMO_VIDEO_OUT := work_dirs/demo_video

.PHONY: help venv demo demo-baseline demo-video test docs

help:
	@echo "make demo   train TaskWeave on the synthetic demo data (CPU, a few"
	@echo "            minutes), test the best checkpoint, dump and score the"
	@echo "            predictions ($(DEMO_WORK))"
	@echo "make demo-baseline  training-free baseline on the demo data ($(DEMO_OUT))"
	@echo "make demo-video  pipeline check of the raw-video path: a generated"
	@echo "            video, random small backbones, the demo-trained (or a"
	@echo "            random) detector -> predictions JSON, PNG, HTML page"
	@echo "            ($(DEMO_VIDEO_OUT)); not meaningful predictions"
	@echo "make test   run the test suite"
	@echo "make docs   build the HTML docs (docs/en/_build/html)"
	@echo "make venv   create $(VENV) and install everything (automatic)"

venv: $(STAMP)

$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/runtime.txt \
	    -r requirements/tests.txt -r requirements/docs.txt \
	    -c requirements/constraints.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

# The demo data is generated into $(DEMO_DIR) on first use. The best
# checkpoint of the run, as recorded by its CheckpointHook in
# best_checkpoints.json, is tested; the dump is the official submission
# format, scored again by the standalone evaluator (metric table).
demo: venv
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_WORK)
	best="$$($(PY) tools/misc/best_checkpoint.py $(DEMO_WORK) \
	    --metric MR-full-mAP)" && \
	$(PY) tools/test.py $(DEMO_CFG) "$$best" \
	    --work-dir $(DEMO_WORK) --dump $(DEMO_WORK)/val_preds.jsonl
	$(PY) tools/eval_preds.py $(DEMO_WORK)/val_preds.jsonl \
	    $(DEMO_DIR)/highlight_val_release.jsonl --dataset qvhighlights \
	    --out $(DEMO_WORK)/val_metrics.json

demo-baseline: venv
	$(PY) tools/misc/generate_demo_data.py --out-dir $(DEMO_DIR)
	$(PY) tools/misc/demo_baseline.py --data-root $(DEMO_DIR) --split val \
	    --out $(DEMO_OUT)/val_preds.jsonl
	$(PY) tools/eval_preds.py $(DEMO_OUT)/val_preds.jsonl \
	    $(DEMO_DIR)/highlight_val_release.jsonl --dataset qvhighlights \
	    --out $(DEMO_OUT)/metrics.json

# Generates a short video with PyAV's encoder, extracts features with
# randomly initialised small backbones and runs MRHDInferencer with the
# newest best checkpoint of `make demo` when its feature layout fits, else a
# randomly initialised detector. Labelled as a pipeline check everywhere.
demo-video: venv
	$(PY) demo/video_demo.py $(DEMO_VIDEO_OUT)/demo_video.mp4 \
	    "a colourful pattern drifts" "a bright stripe flashes" --generate \
	    --extractor tiny --config $(DEMO_CFG) --checkpoint auto \
	    --out-dir $(DEMO_VIDEO_OUT)

test: venv
	$(PY) -m pytest tests

docs: venv
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs/en docs/en/_build/html
