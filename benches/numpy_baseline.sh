#!/usr/bin/env bash
# Times numpy on the crate's pairwise metrics, on this machine, for docs/benchmarks.md.
# Usage: bash benches/numpy_baseline.sh [--sizes 1024x512,...] [--dtypes float32] [--repeats 3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NUMPY_BASELINE_VENV:-$here/../target/numpy-baseline-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/pip" install --quiet numpy
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$venv/bin/python" "$here/numpy_baseline.py" "$@"
