#!/usr/bin/env bash
# The rocket_ensemble study (10 repeats, seeds 0-9) on a lent GPU machine, sized for one call
# of under 8 minutes. The GPU box has PyTorch, numpy, pandas, pyarrow and scikit-learn but no
# Prefect (the benchmark needs none) and none of pydantic, pydantic-settings and filelock,
# which it does need: download their Python 3.12 wheels here into the ignored .whl/ folder
#   pip download -d .whl --only-binary=:all: --python-version 3.12 \
#       pydantic pydantic-settings filelock
# and carry .whl/ with a data home's tensors/ (built here by the ingest flow) as
# gpu-home/tensors/. Then, from the repository root:
#
#   bash benchmarks/gpu/rocket_ensemble.sh gpu-home
#
# The transforms run on the GPU, the ridge solves on its host CPU (scikit-learn); the run table
# lands in $OUT (the device tool's output folder) or benchmarks/results/.
set -euo pipefail
if [ -d .whl ]; then pip install -q --no-index --find-links .whl pydantic pydantic-settings filelock; fi
home="${1:?usage: rocket_ensemble.sh DATA_HOME}"
out="${OUT:-benchmarks/results}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
time python3 -m benchmarks.accuracy --architectures rocket_ensemble --repeats 10 \
    --protocol validated --device cuda --data-home "$home" \
    --study-id rocket-ensemble-gpu --results-dir "$out"
