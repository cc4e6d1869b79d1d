#!/usr/bin/env bash
# Times the reference repositories' own code (torch CPU, sklearn) and numpy on the geometry
# metrics of issue 11, on this machine, for docs/benchmarks.md.
# Usage: bash benches/geometry_baseline.sh [--n 10000] [--d 512] [--captions 1000x5]
#                                          [--repeats 3] [--max-gb 8] [--only cka_biased,...]
# The reference files are written to $GEOMETRY_BASELINE_REFS (default target/geometry-baseline-refs)
# at the commits below, from the bare git mirrors in $MIRRORS/<owner>+<name>/repo (default
# /work/.mirror), else downloaded from raw.githubusercontent.com. Nothing of theirs enters the
# repository. GEOMETRY_BASELINE_SYSTEM_SITE=1 makes the venv see the system's packages (reuses an
# installed torch instead of downloading one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/../target"
venv="${GEOMETRY_BASELINE_VENV:-$target/geometry-baseline-venv}"
refs="${GEOMETRY_BASELINE_REFS:-$target/geometry-baseline-refs}"
mirrors="${MIRRORS:-/work/.mirror}"

. "$here/venv.sh"
make_venv "$venv" "${GEOMETRY_BASELINE_SYSTEM_SITE:-0}"
"$venv/bin/python" -c "import numpy, scipy, sklearn, threadpoolctl" 2>/dev/null ||
  "$venv/bin/pip" install --quiet numpy scipy scikit-learn threadpoolctl
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  # the CPU wheel; where its index is unreachable, the default PyPI wheel (runs on the CPU too)
  "$venv/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu ||
    "$venv/bin/pip" install --quiet torch
fi

# repository  commit  file  (the commits tests/data/geometry pins)
files="
minyoungg/platonic-rep dcd76ba3c950c1b197a2ae8b1c6713535c94ecf9 metrics.py
lmb-freiburg/two-effects-one-trigger ed38130655aa2c69ef32ff8fb9991e78dd9963a5 analysis/gap_precompute.py
abrar-fahim/contrastive-gap 8c1a17bff93a83db48163d604376c0f876c959e8 src/evaluator.py
bcbi-edu/p_eickhoff_isoscore 1edad0b7f6d30099687a851ee150d3b02f50c217 IsoScore/IsoScore.py
"
mkdir -p "$refs"
: >"$refs/COMMITS"
while read -r repo commit path; do
  [ -n "$repo" ] || continue
  out="$refs/${repo#*/}/$path"
  if [ ! -s "$out" ]; then
    mkdir -p "$(dirname "$out")"
    git_dir="$mirrors/${repo/\//+}/repo"
    if [ -d "$git_dir" ] && git --git-dir="$git_dir" show "$commit:$path" >"$out.part" 2>/dev/null; then
      mv "$out.part" "$out"
    else
      curl -fsSL "https://raw.githubusercontent.com/$repo/$commit/$path" -o "$out.part"
      mv "$out.part" "$out"
    fi
  fi
  echo "$repo@$commit $path" >>"$refs/COMMITS"
done <<<"$files"

export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" \
  MKL_NUM_THREADS="${MKL_NUM_THREADS:-2}"
exec "$venv/bin/python" "$here/geometry_baseline.py" --refs "$refs" "$@"
