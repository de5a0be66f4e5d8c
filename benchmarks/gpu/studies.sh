#!/usr/bin/env bash
# The 10-repeat studies of issues 13 and 14 on one lent GPU, sized for one call of the device
# tool (about 8 minutes): rocket_ensemble (one solo run first, for a clean per-run time), the
# notebook models under the published protocol and the three Keras ports under `validated`.
#
# Prepare here (the GPU box has PyTorch, numpy, pandas, pyarrow, scikit-learn; not pydantic,
# pydantic-settings or python-dotenv): Python 3.12 wheels of those in the ignored .whl/ (see the
# device README's pip download line), and a data home's tensors/ (built here by `har ingest`)
# copied to the ignored gpu-home/tensors/. Then, carrying .whl and gpu-home:
#
#   BUDGET_S=430 bash benchmarks/gpu/studies.sh gpu-home
#   STUDIES="rocket validated" BUDGET_S=400 bash benchmarks/gpu/studies.sh gpu-home  # some
#
# Runs go to processes sharing the GPU, each on its own slice of repeats (a study's records are
# shared through its folder, so processes may split one study). Runs still going at the budget
# get SIGTERM and are recorded as interrupted (not in the run tables). What comes back in $OUT:
# the three run tables, one log and the records and histories (no checkpoints).
set -uo pipefail
home="${1:?usage: studies.sh DATA_HOME}"
out="${OUT:-/tmp/gpu-out}"
budget="${BUDGET_S:-430}"
mkdir -p "$out" /tmp/logs
if [ -d .whl ] && [ -z "${NO_WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site:$PWD"
fi
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
start=$(date +%s)
log="$out/log.txt"
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    nproc
    python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'
} >"$log" 2>&1

# study architecture protocol first_repeat repeats [threads]; `limit` (s from the start) caps it.
# DEVICE and EPOCHS (for a smoke test on CPU) override the device and the recipes' epochs.
bench() {
    local left=$((${limit:-$budget} - ($(date +%s) - start)))
    if [ "$left" -le 0 ]; then return; fi
    timeout -s TERM "$left" python3 -m benchmarks.accuracy --architectures "$2" --protocol "$3" \
        --first-repeat "$4" --repeats "$5" --device "${DEVICE:-cuda}" --threads "${6:-1}" \
        ${EPOCHS:+--epochs "$EPOCHS"} \
        --data-home "$home" --study-id "$1" --results-dir /tmp/tables \
        >"/tmp/logs/$1-$2-$4.log" 2>&1
}

mkdir -p /tmp/tables
studies="${STUDIES:-rocket nb validated}"  # which groups to run, in this order of priority
has() { [[ " $studies " == *" $1 "* ]]; }
if has rocket; then
    # repeat 0 alone: its seconds are the GPU's own (the ridge solves use 8 host threads)
    OMP_NUM_THREADS=8 MKL_NUM_THREADS=8 limit="${SOLO_S:-100}" \
        bench rocket-ensemble-gpu rocket_ensemble validated 0 1 8
    echo "solo rocket_ensemble done at $(($(date +%s) - start)) s" >>"$log"
fi
# the rest at once, split by the work per run (optimizer steps), one process per slice
if has nb; then
    for first in 0 2 4 6 8; do
        bench nb-published-gpu lstm128 published "$first" 2 &
        bench nb-published-gpu lstm128_64 published "$first" 2 &
    done
fi
if has validated; then  # 3 selection runs on 2/3 of the subjects + a refit: ~3x published
    v=seed-ports-validated-3fold-gpu
    bench $v lstm validated 0 4 &
    bench $v lstm validated 4 3 &
    bench $v lstm validated 7 3 &
    for first in 0 2 4 6 8; do
        bench $v cnn_lstm validated "$first" 2 &
        bench $v convlstm validated "$first" 2 &
    done
fi
if has rocket; then
    OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 bench rocket-ensemble-gpu rocket_ensemble validated 1 9 2 &
fi
wait
echo "all done at $(($(date +%s) - start)) s" >>"$log"

for study in $(ls "$home/runs"); do
    python3 -m benchmarks.results export "$study" --data-home "$home" >>"$log" 2>&1
    cp "benchmarks/results/$study.csv" "$out/" 2>>"$log"
done
for f in /tmp/logs/*.log; do
    printf '\n==== %s\n' "$(basename "$f")"
    grep -vE '^\s*$' "$f" | grep -v 'it/s\]' | tail -40
done >>"$log"
tar czf "$out/runs.tgz" --exclude=checkpoints -C "$home" runs
echo "finished at $(($(date +%s) - start)) s" >>"$log"
tail -5 "$log"
