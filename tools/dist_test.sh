#!/usr/bin/env bash
# Distributed testing on one or more nodes with torchrun.
# Usage: [NNODES=1 NODE_RANK=0 PORT=29500 MASTER_ADDR=127.0.0.1] \
#        bash tools/dist_test.sh CONFIG CHECKPOINT NPROC_PER_NODE [test.py args...]
# On a CPU-only machine the processes use gloo (mmmrhd.utils.prepare_distributed
# works around mmengine 0.10.7 calling torch.cuda.set_device); torchrun must be on PATH.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC_PER_NODE [tools/test.py args...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
torchrun \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$TOOLS_DIR/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
