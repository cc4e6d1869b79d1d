#!/usr/bin/env python3
"""Pins the expected metrics of the real features published with Liang et al. (2022).

Run from the repository root with the project's shared folder beside it:
    python3 tests/data/pin_real_values.py ../shared
It writes `tests/data/real_features_expected.json`: the metrics that `tests/real_data.rs`
asserts, for every file of `../shared/data/modality-gap-features/` (the embedded
`data/features_clasp.npy` is one of them). The values come from the
numpy oracle (`oracle/reference.py`) in float64 on the float32 files: the computation the crate
performs with `T = f64`.
"""
import glob
import json
import os
import sys

import numpy as np

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
sys.path.insert(0, os.path.join(shared, "oracle"))
import reference as R  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))


def uniform_accurate(x, t=2.0):
    """L_uniform with full relative accuracy: the oracle's m + log(mean(exp(z - m))) loses
    about 1e-16 / |L| relative when the mean is near 1 (a tight cone, |L| ~ 1e-4); there
    log1p(mean(expm1(z - m))) keeps every digit. Distances from explicit differences."""
    z = -t * R.pdist_sq(x)
    m = z.max()
    mean = np.mean(np.exp(z - m))
    return float(m + (np.log(mean) if mean < 0.5 else np.log1p(np.mean(np.expm1(z - m)))))


def metrics(path):
    pair = np.load(path)
    a, t = pair[0].astype(np.float64), pair[1].astype(np.float64)
    na, nt = R.l2_normalize(a), R.l2_normalize(t)
    out = {
        "n": int(a.shape[0]), "d": int(a.shape[1]),
        "gap_distance": R.gap_distance(a, t),
        "gap_vector_0": float(R.gap_vector(a, t)[0]),
        "cone_first_excluded": R.mean_pairwise_cosine(a),
        "cone_second_excluded": R.mean_pairwise_cosine(t),
        "cone_first_included": float((na @ na.T).mean()),
        "align_alpha2": R.align_loss(na, nt, 2.0),
        "uniform_first_t2": R.uniform_loss(na, 2.0),
        "uniform_second_t2": R.uniform_loss(nt, 2.0),
        "uniform_first_t2_accurate": uniform_accurate(na),
        "uniform_second_t2_accurate": uniform_accurate(nt),
        "clip_symmetric_tau0.01": R.clip_contrastive_loss(na, nt, 100.0),
        "clip_i2t_tau0.01": R.clip_loss_i2t(na, nt, 100.0),
        "clip_t2i_tau0.01": R.clip_loss_t2i(na, nt, 100.0),
    }
    for k in (1, 5, 10):
        r = R.retrieval_recall_at_k(na, nt, k)
        out[f"hits_i2t_at{k}"] = int(round(r[f"Text R@{k}"] * a.shape[0]))
        out[f"hits_t2i_at{k}"] = int(round(r[f"Image R@{k}"] * a.shape[0]))
    return out


published = {}
for path in sorted(glob.glob(os.path.join(shared, "data", "modality-gap-features", "*.npy"))):
    published[os.path.basename(path)] = metrics(path)
with open(os.path.join(here, "real_features_expected.json"), "w") as f:
    json.dump(published, f, indent=1)
print(f"wrote {len(published)} files' metrics to tests/data/real_features_expected.json")
