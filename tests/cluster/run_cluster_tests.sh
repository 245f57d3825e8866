#!/usr/bin/env bash
# Run the Slurm cluster tests on a throwaway single-node Slurm: start it, run pytest, always stop
# it; everything within one hard time budget. Exits with pytest's status (1 if Slurm would not
# start). Needs root (see slurm_harness.sh) and pip install -r requirements-cluster.txt.
#
#   tests/cluster/run_cluster_tests.sh [extra pytest args]
#
# Environment: DUALGRAD_CLUSTER_TEST_BUDGET (seconds for all of it, default 300), PYTHON
# (default .venv/bin/python, else python3), DUALGRAD_SLURM_DIR (the harness's folder).
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
HARNESS=tests/cluster/slurm_harness.sh
PYTHON=${PYTHON:-$([[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3)}
BUDGET=${DUALGRAD_CLUSTER_TEST_BUDGET:-300}
TEARDOWN=40 # seconds kept for stopping Slurm
t0=$SECONDS
say() { echo "[cluster-tests] $*" >&2; }

# shellcheck disable=SC2317  # called by the trap
teardown() {
    local t1=$SECONDS
    timeout -k 5 $((TEARDOWN - 5)) bash "$HARNESS" stop || say "stopping Slurm failed"
    say "teardown $((SECONDS - t1))s, total $((SECONDS - t0))s"
}
trap teardown EXIT
trap 'exit 143' INT TERM

if ! timeout -k 5 $((BUDGET / 3)) bash "$HARNESS" start; then
    say "could not start Slurm within $((BUDGET / 3))s"
    exit 1
fi
say "Slurm up after $((SECONDS - t0))s"

# pytest gets what is left; the workflow inside it 25 s less, for the fixture's own clean-up.
left=$((BUDGET - (SECONDS - t0) - TEARDOWN))
DUALGRAD_SLURM=1 DUALGRAD_SLURM_DAG_TIMEOUT=$((left - 25)) \
    timeout -k 10 $((left - 10)) "$PYTHON" -m pytest tests/cluster -m cluster -p no:cacheprovider -rA "$@"
status=$?
if ((status == 124 || status == 137)); then
    say "pytest ran past its $((left - 10))s and was stopped"
    bash "$HARNESS" logs
fi
exit $status
