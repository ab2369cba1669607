#!/usr/bin/env bash
# Distributed training on one or more nodes with torchrun.
# Usage: [NNODES=1 NODE_RANK=0 PORT=29500 MASTER_ADDR=127.0.0.1] \
#        bash tools/dist_train.sh CONFIG NPROC_PER_NODE [train.py args...]
# On a CPU-only machine the processes use gloo (mmmrhd.utils.prepare_distributed
# works around mmengine 0.10.7 calling torch.cuda.set_device); torchrun must be on PATH.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CONFIG NPROC_PER_NODE [tools/train.py args...]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
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
    "$TOOLS_DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
