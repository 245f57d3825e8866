#!/usr/bin/env bash
# Prepare, on a machine with network, the wheels that benchmarks/gpu_check.sh installs on a GPU
# machine without any (Python 3.12, x86-64 Linux): every package in
# benchmarks/gpu_check_requirements.txt, as a cp312 manylinux or pure-Python wheel.
#
#   benchmarks/gpu_check_wheels.sh [DEST]      # DEST: benchmarks/wheels (git-ignored)
#
# PIP (default .venv/bin/pip, else python3 -m pip) does the downloading. A package published only
# as source is built here into a wheel, which must come out pure Python (py3-none-any).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-benchmarks/wheels}
REQUIREMENTS=benchmarks/gpu_check_requirements.txt
if [ -z "${PIP:-}" ]; then
    if [ -x .venv/bin/pip ]; then PIP=".venv/bin/pip"; else PIP="python3 -m pip"; fi
fi
TARGET=(--python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
        --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64)

rm -rf "$DEST"
mkdir -p "$DEST"
grep -vE '^\s*(#|$)' "$REQUIREMENTS" | while read -r pin; do
    if ! $PIP download --quiet --no-deps --only-binary=:all: "${TARGET[@]}" -d "$DEST" "$pin" 2>/dev/null; then
        echo "$pin: no wheel for Python 3.12 published; building one from its source" >&2
        $PIP wheel --quiet --no-deps -w "$DEST" "$pin"
    fi
done

# Exactly one wheel per listed package, each installable on CPython 3.12 / x86-64 Linux.
listed=$(grep -cvE '^\s*(#|$)' "$REQUIREMENTS")
found=$(find "$DEST" -name '*.whl' | wc -l)
[ "$found" -eq "$listed" ] || { echo "error: $found wheels in $DEST for $listed packages" >&2; exit 1; }
bad=$(find "$DEST" -name '*.whl' | grep -vE -- '-(py3-none-any|py2\.py3-none-any|cp312-cp312-manylinux[^/]*x86_64|cp3[0-9]*-abi3-manylinux[^/]*x86_64)\.whl$' || true)
[ -z "$bad" ] || { echo "error: wheels that do not fit Python 3.12 on x86-64 Linux: $bad" >&2; exit 1; }
echo "$found wheels, $(du -sh "$DEST" | cut -f1), in $DEST"
