#!/usr/bin/env bash
# Run the Slurm cluster tests on a throwaway single-node Slurm: start it, run pytest under a hard
# time limit, always stop it. Exits with pytest's status. Needs root (see slurm_harness.sh) and
# the cluster requirements (pip install -r requirements-cluster.txt).
#
#   tests/cluster/run_cluster_tests.sh [extra pytest args]
#
# Environment: PYTHON (default .venv/bin/python, else python3), DUALGRAD_CLUSTER_TEST_TIMEOUT
# (seconds for pytest, default 270), DUALGRAD_SLURM_DIR (the harness's folder).
set -uo pipefail

cd "$(dirname "$0")/../.."
HARNESS=tests/cluster/slurm_harness.sh
PYTHON=${PYTHON:-$([[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3)}
LIMIT=${DUALGRAD_CLUSTER_TEST_TIMEOUT:-270}
t0=$SECONDS

# shellcheck disable=SC2317  # called by the trap
teardown() {
    local t1=$SECONDS
    timeout -k 5 60 bash "$HARNESS" stop || echo "[cluster-tests] harness stop failed" >&2
    echo "[cluster-tests] teardown $((SECONDS - t1))s, total $((SECONDS - t0))s" >&2
}
trap teardown EXIT
trap 'exit 143' INT TERM

if ! timeout -k 10 600 bash "$HARNESS" start; then
    echo "[cluster-tests] could not start Slurm" >&2
    exit 1
fi
echo "[cluster-tests] Slurm up after $((SECONDS - t0))s" >&2

DUALGRAD_SLURM=1 timeout -k 10 "$LIMIT" "$PYTHON" -m pytest tests/cluster -m cluster -p no:cacheprovider -rA "$@"
status=$?
if ((status == 124 || status == 137)); then
    echo "[cluster-tests] pytest ran past ${LIMIT}s and was stopped" >&2
    bash "$HARNESS" logs
fi
exit $status
