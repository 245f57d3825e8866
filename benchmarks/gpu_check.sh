#!/usr/bin/env bash
# The GPU check in one command, on a GPU machine with its own Python and PyTorch but no network:
# installs the wheels prepared by benchmarks/gpu_check_wheels.sh (Snakemake, jsonschema, ...) where
# they are missing, puts this checkout's src/ first on the path, and runs benchmarks/gpu_check.py.
#
#   benchmarks/gpu_check.sh [--budget SECONDS] [--out REPORT.json] [--phases ...] [--cpu]
#
# PYTHON (default python3) is the interpreter that holds PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEELS=benchmarks/wheels
if ! $PY -c 'import snakemake, jsonschema' 2>/dev/null; then
    if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
        echo "error: snakemake or jsonschema missing and no wheels in $WHEELS;" \
             "prepare them where there is network: benchmarks/gpu_check_wheels.sh" >&2
        exit 2
    fi
    SITE=${DUALGRAD_WHEELS_SITE:-/tmp/dualgrad-gpu-check-site}
    $PY -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
        "$WHEELS"/*.whl
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
exec $PY benchmarks/gpu_check.py "$@"
