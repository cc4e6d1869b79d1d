#!/usr/bin/env python3
"""Pins the expected metrics of the embedded real pair `data/features_clasp.npy`.

Run from the repository root with the oracle beside it:
    python3 tests/data/pin_real_values.py ../shared/oracle
It prints the Rust constants that `tests/real_data.rs` asserts. The values come from the
numpy oracle (`reference.py`) in float64 on the float32 file, the same computation the crate
performs with `T = f64`.
"""
import os
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/oracle")
import reference as R  # noqa: E402

pair = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "features_clasp.npy"))
a, t = pair[0].astype(np.float64), pair[1].astype(np.float64)
na, nt = R.l2_normalize(a), R.l2_normalize(t)
values = {
    "GAP_DISTANCE": R.gap_distance(a, t),
    "GAP_VECTOR_0": R.gap_vector(a, t)[0],
    "CONE_AUDIO_EXCLUDED": R.mean_pairwise_cosine(a),
    "CONE_TEXT_EXCLUDED": R.mean_pairwise_cosine(t),
    "CONE_AUDIO_INCLUDED": float((na @ na.T).mean()),
    "ALIGN_ALPHA2": R.align_loss(na, nt, 2.0),
    "UNIFORM_AUDIO_T2": R.uniform_loss(na, 2.0),
    "UNIFORM_TEXT_T2": R.uniform_loss(nt, 2.0),
    "CLIP_SYMMETRIC_TAU001": R.clip_contrastive_loss(na, nt, 100.0),
    "CLIP_I2T_TAU001": R.clip_loss_i2t(na, nt, 100.0),
    "CLIP_T2I_TAU001": R.clip_loss_t2i(na, nt, 100.0),
    "RECALL1_I2T": R.retrieval_recall_at_k(na, nt, 1)["Text R@1"],
    "RECALL1_T2I": R.retrieval_recall_at_k(na, nt, 1)["Image R@1"],
    "RECALL5_I2T": R.retrieval_recall_at_k(na, nt, 5)["Text R@5"],
}
for name, v in values.items():
    print(f"const {name}: f64 = {float(v)!r};")
