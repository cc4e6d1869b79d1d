#!/usr/bin/env bash
# The crate beside numpy and torch on uniformity and the contrastive loss, in one run: each
# cell (metric, precision, size) measured back to back, the crate's medians with the FMA peak
# and the bare micro-kernel's rate around them (examples/throughput.rs) and then the peers'
# (benches/side_by_side.py), so that a drifting host moves them alike; one table with the
# ratios. Not part of CI.
# Usage: bash benches/side_by_side.sh [--sizes 8192x512,16384x768] [--dtypes f32,f64]
#        [--repeats 5]
# The venv (target/side-by-side-venv, or $SIDE_BY_SIDE_VENV) gets numpy, scipy, torch and
# threadpoolctl from PyPI; SIDE_BY_SIDE_SYSTEM_SITE=1 lets it reuse the system's packages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
sizes="1024x512,8192x512,16384x512,8192x768,16384x768"
dtypes="f32,f64"
repeats=5
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes="$2"; shift 2 ;;
        --dtypes) dtypes="$2"; shift 2 ;;
        --repeats) repeats="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
venv="${SIDE_BY_SIDE_VENV:-$root/target/side-by-side-venv}"
. "$here/venv.sh"
make_venv "$venv" "${SIDE_BY_SIDE_SYSTEM_SITE:-0}"
"$venv/bin/python" -c "import numpy, scipy, torch, threadpoolctl" 2>/dev/null \
    || "$venv/bin/pip" install --quiet numpy scipy torch threadpoolctl
threads="$(nproc)"
date -u +"run of %Y-%m-%d %H:%M UTC on $(lscpu | sed -n 's/^Model name: *//p'), $threads cores"
(cd "$root" && cargo build --quiet --release --example throughput)
# The peers with the BLAS tuning variables unset for this command alone, every core.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
    "$venv/bin/python" "$here/side_by_side.py" \
    --crate-bin "$root/target/release/examples/throughput" --threads "$threads" \
    --sizes "$sizes" --dtypes "$dtypes" --repeats "$repeats"
