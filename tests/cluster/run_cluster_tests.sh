#!/usr/bin/env bash
# Run the Slurm cluster tests on a throwaway single-node Slurm: start it, run pytest, always stop
# it; everything within one hard time budget. Exits with pytest's status (1 if Slurm would not
# start). Needs root (see slurm_harness.sh) and pip install -r requirements-cluster.txt.
#
#   tests/cluster/run_cluster_tests.sh [extra pytest args]
#
# Environment: DUALGRAD_CLUSTER_TEST_BUDGET (seconds for all of it, default 450), PYTHON
# (default .venv/bin/python, else python3), DUALGRAD_SLURM_DIR (the harness's folder),
# DUALGRAD_CLUSTER_TEST_TMP (pytest's --basetemp, emptied at the start and kept afterwards: the
# workflow's folder with its snakemake.log; default /tmp/dualgrad-cluster-tests).
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
HARNESS=tests/cluster/slurm_harness.sh
PYTHON=${PYTHON:-$([[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3)}
BUDGET=${DUALGRAD_CLUSTER_TEST_BUDGET:-450}
BASETEMP=${DUALGRAD_CLUSTER_TEST_TMP:-/tmp/dualgrad-cluster-tests}
TEARDOWN=40 # seconds kept for stopping Slurm
ARRAY=150   # seconds kept for the job-array DAG, which runs after the main one
t0=$SECONDS
say() { echo "[cluster-tests] $*" >&2; }

# Processes still working in the tests' folder were started by them: e.g. a Snakemake that
# outlived a pytest stopped by its timeout. Kill them (by pid) before Slurm goes.
# shellcheck disable=SC2317  # called by teardown
kill_leftovers() {
    local proc
    for proc in /proc/[0-9]*; do
        [[ $(readlink "$proc/cwd" 2>/dev/null) == "$BASETEMP"/* ]] || continue
        say "killing leftover process ${proc#/proc/}: $(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | cut -c1-150)"
        kill -9 "${proc#/proc/}" 2>/dev/null || true
    done
}

# shellcheck disable=SC2317  # called by the trap
teardown() {
    local t1=$SECONDS
    kill_leftovers
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

# pytest gets what is left; the main workflow inside it 35 s less, for the fixture's own clean-up
# (stopping Snakemake, which scancels its jobs, then the tests), and the job-array DAG's share.
left=$((BUDGET - (SECONDS - t0) - TEARDOWN))
DUALGRAD_SLURM=1 DUALGRAD_SLURM_DAG_TIMEOUT=$((left - 35 - ARRAY)) DUALGRAD_SLURM_ARRAY_TIMEOUT=$((ARRAY - 20)) \
    timeout -k 10 $((left - 10)) "$PYTHON" -m pytest tests/cluster -m cluster -p no:cacheprovider -rA \
    --basetemp "$BASETEMP" "$@"
status=$?
if ((status == 124 || status == 137)); then
    say "pytest ran past its $((left - 10))s and was stopped"
    bash "$HARNESS" logs
fi
exit $status
