#!/usr/bin/env python3
"""
Writes the deterministic geometry cases of issue 11 (numpy float64 oracle, ``reference.py``).

Usage (from the repository root):
    python3 tests/data/geometry/make_cases.py [--out tests/data/oracle] [--data DIR]

Each case is a directory ``<out>/geometry_<name>/`` in the format of the shared oracle and of
``tests/common/mod.rs`` (``Case``): ``img.f64``, ``txt.f64`` (raw little-endian float64, C
order), ``image_of.i64`` (little-endian int64) and ``expected.json`` =
{"description", "inputs": {name: {"file", "dtype", "shape"}}, "params", "expected"}.
Non-finite floats would be written as the strings "NaN" / "Infinity" / "-Infinity" (none occur).

``--data DIR`` (a folder of the published features_*.npy, shape [2, n, d] float32) also writes
``tests/data/geometry/real_features_expected.json``: every metric, float64 on the float32
values.

The reference code's own outputs ("reference_code" in expected.json) are added afterwards by
``pin_reference_code.py``, which needs torch and the reference repositories; re-run it after
this script (this script rewrites expected.json from scratch).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402

KNN_KS = (1, 2, 5, 10)
CKNNA_KS = (2, 5, 10)
SVCCA_QS = (1, 2, 3, 4, 5, 10)
TAUS = (0.01, 0.07)
RECALL_KS = (1, 5, 10)


# ----------------------------------------------------------------------------------------------
def jsonable(o):
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (np.floating, float)):
        f = float(o)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


class Case:
    def __init__(self, root, name, description):
        self.dir = os.path.join(root, name)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        self.meta = {"description": description, "inputs": {}, "params": {}, "expected": {}}

    def add_f64(self, name, arr):
        arr = np.ascontiguousarray(np.asarray(arr, dtype="<f8"))
        arr.tofile(os.path.join(self.dir, f"{name}.f64"))
        self.meta["inputs"][name] = {"file": f"{name}.f64", "dtype": "float64-le", "shape": list(arr.shape)}
        return np.asarray(arr, dtype=np.float64)

    def add_i64(self, name, arr):
        arr = np.ascontiguousarray(np.asarray(arr, dtype="<i8"))
        arr.tofile(os.path.join(self.dir, f"{name}.i64"))
        self.meta["inputs"][name] = {"file": f"{name}.i64", "dtype": "int64-le", "shape": list(arr.shape)}
        return np.asarray(arr, dtype=np.int64)

    def write(self):
        with open(os.path.join(self.dir, "expected.json"), "w") as f:
            json.dump(jsonable(self.meta), f, indent=1, allow_nan=False)


# ----------------------------------------------------------------------------------------------
def svd_gap_ok(x, q, rel=1e-6):
    """True when the top-q subspace of the z-scored x is well defined: q <= min(d, n - 1) and
    sigma_q - sigma_{q+1} > rel * sigma_1 (else SVCCA is not a function of the data)."""
    n, d = x.shape
    if q < 1 or q > min(d, n - 1):
        return False
    s = np.linalg.svd(R.zscore_columns(x), compute_uv=False)
    nxt = s[q] if q < len(s) else 0.0
    return s[q - 1] - nxt > rel * s[0]


def set_metrics(x):
    """Per-set metrics: effective rank (raw rows; both spectra, both centrings) and IsoScore."""
    er = {}
    for sp in ("singular_values", "variances"):
        er[sp] = {c: R.effective_rank(x, sp, c)["value"] for c in ("none", "mean")}
    er["bound"] = {c: R.effective_rank(x, "variances", c)["bound"] for c in ("none", "mean")}
    return er


def captioned_metrics(img, txt, image_of):
    """The "captioned" block on unit rows."""
    ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
    n = ni.shape[0]
    i2t, t2i = R.captioned_ranks(ni, nt, image_of)
    return {
        "recall": {str(k): R.captioned_recall(ni, nt, image_of, k) for k in RECALL_KS if k <= n},
        "ranks_image_to_text": i2t,
        "ranks_text_to_image": t2i,
        "align_loss_2": R.captioned_align_loss(ni, nt, image_of, 2.0),
        "mean_paired_distance": R.captioned_mean_paired_distance(ni, nt, image_of),
        "relative_gap": R.captioned_relative_gap(ni, nt, image_of),
        "contrastive_loss": {str(t): R.captioned_contrastive_loss(ni, nt, image_of, t) for t in TAUS},
    }


def paired_metrics(img, txt):
    """Every key of SPEC.md for a 1:1 pair (img, txt) of raw rows; unit = l2-normalised."""
    n, d = img.shape
    ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
    e = {}
    e["mean_paired_distance"] = R.mean_paired_distance(ni, nt)
    e["relative_gap"] = R.relative_gap(ni, nt)
    e["gap_by_dimension"] = R.gap_by_dimension(ni, nt)
    e["cross_modal_uniformity"] = {str(t): R.cross_modal_uniformity(ni, nt, t) for t in (1.0, 2.0)}
    e["cka"] = {est: {c: R.cka(img, txt, est == "unbiased", c) for c in ("none", "mean")}
                for est in ("biased", "unbiased")}
    e["cka_unit"] = {est: {c: R.cka(ni, nt, est == "unbiased", c) for c in ("none", "mean")}
                     for est in ("biased", "unbiased")}
    # the uncentred n x n formula as written (rounding differs; see reference.cka)
    e["cka_literal_uncentred"] = {est: R.cka(img, txt, est == "unbiased", "none", literal=True)
                                  for est in ("biased", "unbiased")}
    e["mutual_knn"] = {str(k): R.mutual_knn(ni, nt, k) for k in KNN_KS if k < n}
    e["cknna"] = {str(k): R.cknna(ni, nt, k) for k in CKNNA_KS if k < n}
    e["effective_rank"] = {"img": set_metrics(img), "txt": set_metrics(txt)}
    e["isoscore"] = {"img": R.isoscore(img), "txt": R.isoscore(txt)}
    e["svcca"] = {str(q): R.svcca(img, txt, q) for q in SVCCA_QS
                  if svd_gap_ok(img, q) and svd_gap_ok(txt, q)}
    sep = R.separability(ni, nt)
    e["separability"] = {"accuracy": sep["accuracy"], "train_accuracy": sep["train_accuracy"],
                         "test_count": sep["test_count"], "train_count": sep["train_count"],
                         "weights": sep["w"], "intercept": sep["c"]}
    ci, ct = R.mean_centred(ni), R.mean_centred(nt)
    e["mean_centred"] = {"img": ci, "txt": ct}
    e["mean_centred_metrics"] = {
        "gap_distance": float(np.linalg.norm(ci.mean(axis=0) - ct.mean(axis=0))),
        "relative_gap": R.relative_gap(ci, ct)["value"],
        "recall_1": R.retrieval_recall_1to1(ci, ct, 1),
        "before": {"gap_distance": float(np.linalg.norm(ni.mean(axis=0) - nt.mean(axis=0))),
                   "relative_gap": e["relative_gap"]["value"],
                   "recall_1": R.retrieval_recall_1to1(ni, nt, 1)},
    }
    e["captioned"] = captioned_metrics(img, txt, np.arange(n))
    return e, sep


def sklearn_check(img, txt, sep):
    """Cross-check the Newton solution with sklearn (if installed): max |coef difference|."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
    ta = np.arange(len(ni)) % 5 == 4
    tb = np.arange(len(nt)) % 5 == 4
    X = np.vstack([ni[~ta], nt[~tb]])
    y = np.concatenate([np.ones((~ta).sum()), np.zeros((~tb).sum())])
    Xte = np.vstack([ni[ta], nt[tb]])
    yte = np.concatenate([np.ones(ta.sum()), np.zeros(tb.sum())])
    out = {"sklearn_version": __import__("sklearn").__version__, "newton_iterations": sep["iterations"]}
    for solver in ("newton-cholesky", "lbfgs"):
        clf = LogisticRegression(C=1.0, tol=1e-15, max_iter=100000, solver=solver).fit(X, y)
        dw = float(np.max(np.abs(np.concatenate([clf.coef_[0] - sep["w"], [clf.intercept_[0] - sep["c"]]]))))
        out[solver] = {"tol": 1e-15, "max_iter": 100000, "max_abs_param_difference": dw,
                       "accuracy": float(clf.score(Xte, yte)), "train_accuracy": float(clf.score(X, y))}
    return out


# ----------------------------------------------------------------------------------------------
def dyadic_unit_vectors(d=4):
    """Unit vectors with dyadic entries (+-e_j and (+-1/2, ..)): normalising them is exact and
    their dot products are exact in any summation order, so ties stay exact ties."""
    vs = []
    for j in range(d):
        for s in (1.0, -1.0):
            v = np.zeros(d)
            v[j] = s
            vs.append(v)
    for bits in range(2 ** d):
        vs.append(np.array([0.5 if (bits >> j) & 1 == 0 else -0.5 for j in range(d)]))
    return np.array(vs)


def two_cones(rng, n, d, gap, spread, noise, rot_noise=0.0):
    """Two cones around centres c_a, c_b, paired through a shared latent z."""
    ca = rng.standard_normal(d)
    ca /= np.linalg.norm(ca)
    cb = rng.standard_normal(d)
    cb -= cb.dot(ca) * ca
    cb /= np.linalg.norm(cb)
    cb = math.cos(gap) * ca + math.sin(gap) * cb
    z = rng.standard_normal((n, d))
    q, r = np.linalg.qr(rng.standard_normal((d, d)) * rot_noise + np.eye(d))
    q = q * np.sign(np.diag(r))  # the rotation nearest the identity, not a reflection of it
    img = ca + spread * (z + noise * rng.standard_normal((n, d)))
    txt = cb + spread * (z @ q + noise * rng.standard_normal((n, d)))
    # a non-unit raw scale per row, so raw-row and unit-row metrics differ
    img *= rng.uniform(0.5, 2.0, (n, 1))
    txt *= rng.uniform(0.5, 2.0, (n, 1))
    return img, txt


def write_paired(root, name, description, img, txt, checks):
    c = Case(root, name, description)
    img = c.add_f64("img", img)
    txt = c.add_f64("txt", txt)
    c.add_i64("image_of", np.arange(img.shape[0]))
    c.meta["params"] = {
        "unit": "l2-normalised img/txt rows (the crate normalises the raw .f64 rows); raw rows for "
                "cka, effective_rank, isoscore, svcca",
        "mutual_knn_k": [k for k in KNN_KS if k < img.shape[0]],
        "cknna_k": [k for k in CKNNA_KS if k < img.shape[0]],
        "taus": list(TAUS), "uniformity_t": [1.0, 2.0], "recall_k": list(RECALL_KS),
        "image_of": "identity (1:1 pairs): the captioned block must equal the paired metrics",
    }
    e, sep = paired_metrics(img, txt)
    c.meta["params"]["svcca_q"] = [int(q) for q in e["svcca"]]
    c.meta["expected"] = e
    c.meta["checks"] = {"separability_sklearn": sklearn_check(img, txt, sep)}
    c.meta["checks"].update(checks)
    c.write()
    return c


def write_captioned(root, name, description, img, txt, image_of):
    c = Case(root, name, description)
    img = c.add_f64("img", img)
    txt = c.add_f64("txt", txt)
    image_of = c.add_i64("image_of", image_of)
    counts = np.bincount(image_of, minlength=img.shape[0])
    c.meta["params"] = {"unit": "l2-normalised rows", "taus": list(TAUS), "recall_k": list(RECALL_KS),
                        "captions_per_image": counts}
    c.meta["expected"] = {
        "captioned": captioned_metrics(img, txt, image_of),
        "effective_rank": {"img": set_metrics(img), "txt": set_metrics(txt)},
        "isoscore": {"img": R.isoscore(img), "txt": R.isoscore(txt)},
    }
    c.write()
    return c


# ----------------------------------------------------------------------------------------------
def edge_case(root):
    """Degenerate inputs (inline) with the error the crate must return, and a few closed-form
    values.  ``error`` names the crate's `Error` variant (src/error.rs at 2f7a645) that fits;
    where a new check might choose another variant, ``reason`` says what must be refused."""
    c = Case(root, "geometry_edge",
             "Degenerate inputs the geometry functions must refuse (inline inputs, expected error "
             "kind), and closed-form values at the extremes.")
    r3 = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    r4 = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]]
    r5 = r4 + [[-1.0, 3.0]]
    r6 = r5 + [[0.5, 0.25]]
    same = [[1.0, 0.5]] * 5
    zero = [[0.0, 0.0]] * 5
    errors = [
        {"function": "cka", "estimator": "unbiased", "centring": "none", "a": r3, "b": r3,
         "error": "TooFewSamples", "required": 4, "reason": "unbiased HSIC needs n >= 4"},
        {"function": "cka", "estimator": "biased", "centring": "none", "a": [[1.0, 2.0]], "b": [[3.0, 1.0]],
         "error": "TooFewSamples", "required": 2, "reason": "biased HSIC needs n >= 2"},
        {"function": "cka", "estimator": "biased", "centring": "none", "a": r5, "b": r6,
         "error": "LengthMismatch", "reason": "n differs"},
        {"function": "cka", "estimator": "unbiased", "centring": "none", "a": same, "b": r5,
         "error": "ZeroVariance", "reason": "equal rows: HSIC_KK = 0 exactly (degenerate)"},
        {"function": "cka", "estimator": "biased", "centring": "mean", "a": zero, "b": r5,
         "error": "ZeroVariance", "reason": "zero matrix: HSIC_KK = 0 (degenerate)"},
        {"function": "mutual_knn", "k": 0, "a": r5, "b": r5, "error": "InvalidParameter", "reason": "k = 0"},
        {"function": "mutual_knn", "k": 5, "a": r5, "b": r5, "error": "InvalidParameter", "reason": "k >= n"},
        {"function": "mutual_knn", "k": 1, "a": r5, "b": r6, "error": "LengthMismatch", "reason": "n differs"},
        {"function": "cknna", "k": 1, "a": r5, "b": r5, "error": "InvalidParameter",
         "reason": "platonic-rep requires topk >= 2"},
        {"function": "cknna", "k": 5, "a": r5, "b": r5, "error": "InvalidParameter", "reason": "k >= n"},
        {"function": "effective_rank", "centring": "mean", "x": [[1.0, 2.0]], "error": "TooFewSamples",
         "required": 2, "reason": "centred needs n >= 2"},
        {"function": "effective_rank", "centring": "none", "x": zero, "error": "ZeroVariance",
         "reason": "all-zero spectrum"},
        {"function": "effective_rank", "centring": "mean", "x": same, "error": "ZeroVariance",
         "reason": "all rows equal: zero spectrum after centring"},
        {"function": "isoscore", "x": [[1.0, 2.0]], "error": "TooFewSamples", "required": 2, "reason": "n < 2"},
        {"function": "isoscore", "x": [[1.0], [2.0], [4.0]], "error": "InvalidParameter",
         "reason": "d < 2 (IsoScore divides by d - 1 and d - sqrt(d))"},
        {"function": "isoscore", "x": same, "error": "ZeroVariance", "reason": "zero covariance"},
        {"function": "svcca", "q": 0, "a": r5, "b": r5, "error": "InvalidParameter", "reason": "q = 0"},
        {"function": "svcca", "q": 3, "a": r5, "b": r5, "error": "InvalidParameter", "reason": "q > min(d, n - 1) = 2"},
        {"function": "svcca", "q": 2, "a": r3[:2], "b": r3[:2], "error": "InvalidParameter",
         "reason": "q > min(d, n - 1) = 1"},
        {"function": "svcca", "q": 1, "a": r5, "b": r6, "error": "LengthMismatch", "reason": "n differs"},
        {"function": "svcca", "q": 1, "a": [[1.0, 2.0]], "b": [[1.0, 2.0]], "error": "TooFewSamples",
         "required": 2, "reason": "n < 2"},
        {"function": "cross_modal_uniformity", "t": 2.0, "a": [[1.0, 0.0]], "b": [[0.0, 1.0]],
         "error": "TooFewSamples", "required": 2, "reason": "no pair i != j"},
        {"function": "cross_modal_uniformity", "t": 2.0, "a": r4, "b": r5, "error": "LengthMismatch",
         "reason": "n != m"},
        {"function": "relative_gap", "a": [[1.0, 0.0]], "b": [[0.0, 1.0]], "error": "TooFewSamples",
         "required": 2, "reason": "within-set off-diagonal mean needs n >= 2"},
        {"function": "relative_gap", "a": r4, "b": r5, "error": "LengthMismatch", "reason": "n differs"},
        {"function": "mean_paired_distance", "a": r4, "b": r5, "error": "LengthMismatch", "reason": "n differs"},
        {"function": "gap_by_dimension", "a": r4, "b": r4, "error": "ZeroGap", "reason": "Delta = 0: shares 0/0"},
        {"function": "separability", "a": r4, "b": r4, "error": "TooFewSamples", "required": 5,
         "reason": "n < 5: the i % 5 == 4 split leaves no test sample"},
        {"function": "mean_centred", "x": same, "error": "ZeroNorm",
         "reason": "every row equals the mean: x - mean(x) = 0 cannot be normalised"},
        {"function": "mean_centred", "x": [[1.0, 0.0]], "error": "ZeroNorm", "reason": "n = 1: x - mean = 0"},
        {"function": "captioned", "img": r3, "txt": r4, "image_of": [0, 1, 2],
         "error": "LengthMismatch", "reason": "image_of has 3 labels for 4 texts"},
        {"function": "captioned", "img": r3, "txt": r4, "image_of": [0, 1, 2, 3],
         "error": "InvalidParameter", "reason": "label 3 out of range for 3 images"},
        {"function": "captioned", "img": r3, "txt": r4, "image_of": [0, 1, 1, 0],
         "error": "InvalidParameter", "reason": "image 2 has no caption (its image->text rank and loss are undefined)"},
        {"function": "captioned", "img": r3, "txt": [[1.0, 0.0, 0.0]] * 3, "image_of": [0, 1, 2],
         "error": "DimensionMismatch", "reason": "d differs"},
    ]
    # closed-form values
    iso_points = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0],
                  [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]
    line = [[t, 2.0 * t, -t] for t in (-1.0, 0.0, 0.5, 2.0)]
    a5 = np.array(r5)
    th = 0.3
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    u_same = R.l2_normalize(np.array(r3))
    values = [
        {"function": "isoscore", "x": iso_points, "value": R.isoscore(np.array(iso_points)),
         "exact": 1.0, "reason": "isotropic covariance (+-e_j): IsoScore = 1 exactly"},
        {"function": "isoscore", "x": line, "value": R.isoscore(np.array(line)),
         "exact": 0.0, "reason": "points on a line: one nonzero variance, IsoScore = 0 exactly"},
        {"function": "cka", "estimator": "biased", "centring": "none", "a": r5, "b": (3.0 * a5 @ rot.T).tolist(),
         "value": R.cka(a5, 3.0 * a5 @ rot.T, False), "exact": 1.0,
         "reason": "CKA(A, 3 A Q) = 1 for orthogonal Q"},
        {"function": "cka", "estimator": "unbiased", "centring": "none", "a": r5, "b": (3.0 * a5 @ rot.T).tolist(),
         "value": R.cka(a5, 3.0 * a5 @ rot.T, True), "exact": 1.0, "reason": "same, unbiased"},
        {"function": "cka", "estimator": "unbiased", "centring": "none", "a": r6,
         "b": [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [3.0, 1.0, 0.0], [1.0, 1.0, 1.0], [-2.0, 0.5, 1.0], [0.0, 0.0, 1.0]],
         "value": R.cka(np.array(r6), np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [3.0, 1.0, 0.0], [1.0, 1.0, 1.0],
                                                 [-2.0, 0.5, 1.0], [0.0, 0.0, 1.0]]), True),
         "reason": "dimensions differ (2 vs 3): allowed; the unbiased value may be negative"},
        {"function": "relative_gap", "a": r3, "b": r3, "unit": True,
         "value": R.relative_gap(u_same, u_same),
         "reason": "identical sets: d_m = 0 <= 0 is replaced by 1e-3 (the reference's floor)"},
        {"function": "mutual_knn", "k": 2, "a": r5, "b": r5, "unit": True,
         "value": R.mutual_knn(R.l2_normalize(a5), R.l2_normalize(a5), 2), "exact": 1.0,
         "reason": "identical sets"},
        {"function": "effective_rank", "spectrum": "singular_values", "centring": "none",
         "x": [[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]],
         "value": R.effective_rank(np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))["value"], "exact": 2.0,
         "reason": "two equal singular values: erank = 2 = bound min(n, d)"},
        {"function": "effective_rank", "spectrum": "variances", "centring": "none",
         "x": [[3.0, 0.0], [0.0, 0.0]], "value": 1.0, "exact": 1.0, "reason": "rank one: erank = 1"},
    ]
    c.meta["params"] = {"note": "inputs are inline; 'unit': true means the rows are l2-normalised first. "
                                "'error' is the expected crate Error variant (src/error.rs); any typed "
                                "error that states the reason is acceptable where a new check exists."}
    c.meta["expected"] = {"errors": errors, "values": values}
    c.write()


# ----------------------------------------------------------------------------------------------
def make_all(root):
    rng = np.random.default_rng(20261130)

    # tiny: random, no ties
    img = rng.standard_normal((9, 4)) + np.array([1.0, 0.5, 0.0, 0.0])
    txt = 0.6 * img + rng.standard_normal((9, 4)) + np.array([0.0, 0.0, 1.0, 0.5])
    write_paired(root, "geometry_tiny_n9_d4",
                 "9 random pairs in d = 4 (raw rows, not unit), correlated, no ties.", img, txt, {})

    # ties: exact dyadic unit rows with duplicates
    V = dyadic_unit_vectors(4)
    pick_a = rng.choice(len(V), 12, replace=True)
    pick_a[7] = pick_a[2]          # duplicated image rows
    pick_a[10] = pick_a[2]
    pick_b = rng.choice(len(V), 12, replace=True)
    pick_b[5] = pick_b[9]          # duplicated text rows
    pick_b[3] = pick_a[3]          # a pair with cosine exactly 1
    img, txt = V[pick_a], V[pick_b]
    write_paired(root, "geometry_ties_n12_d4",
                 "12 pairs of exact unit rows with dyadic entries (+-e_j, (+-1/2)^4) and duplicated "
                 "rows: exact ties in k-NN neighbours and retrieval ranks (ties: larger index first).",
                 img, txt, {"pick_img": pick_a, "pick_txt": pick_b})

    # medium: two cones with a gap, paired through a shared latent
    img, txt = two_cones(rng, 200, 32, gap=0.2, spread=0.07, noise=1.0, rot_noise=0.1)
    write_paired(root, "geometry_medium_n200_d32",
                 "200 pairs in d = 32: two cones (centres 0.2 rad apart) paired through a shared "
                 "latent, rows scaled by U(0.5, 2) (raw rows are not unit).", img, txt, {})

    # captions: 40 images, 5 captions each except image 0 (1) and image 1 (7); shuffled
    n, d = 40, 16
    img = rng.standard_normal((n, d)) * 0.5 + np.eye(d)[0] * 1.0
    counts = np.full(n, 5)
    counts[0], counts[1] = 1, 7
    image_of = np.repeat(np.arange(n), counts)
    image_of = image_of[rng.permutation(len(image_of))]
    txt = R.l2_normalize(img)[image_of] + 0.25 * rng.standard_normal((len(image_of), d)) + np.eye(d)[1] * 0.8
    m = len(image_of)
    write_captioned(root, f"geometry_captions_n{n}_m{m}_d{d}",
                    f"{n} images, {m} captions (5 per image, image 0 has 1, image 1 has 7), captions in "
                    "shuffled order; many-captions retrieval ranks, recall, align, L2I, RMG (COCO "
                    "convention) and contrastive loss.", img, txt, image_of)

    # captions with exact ties
    ia = rng.choice(len(V), 6, replace=False)
    img = V[ia]
    image_of = np.array([0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 1])
    it = rng.choice(len(V), len(image_of), replace=True)
    it[4] = it[1]                  # duplicated captions
    it[8] = ia[4]                  # caption equal to its image
    it[9] = ia[0]                  # caption equal to another image
    txt = V[it]
    write_captioned(root, "geometry_captions_ties_n6_m12_d4",
                    "6 images, 12 captions (1-3 per image), exact dyadic unit rows with duplicates: "
                    "exact ties in the many-captions ranks.", img, txt, image_of)

    edge_case(root)


# ----------------------------------------------------------------------------------------------
def gram_route_deviation(x):
    """Relative deviation of the effective rank computed from the eigenvalues of the d x d Gram
    X^T X (negatives -> 0; the crate's route) from the SVD value, for both spectra and
    centrings; also with eigenvalues <= d * eps * lambda_max zeroed.  The Gram route cannot
    resolve singular values below ~sqrt(eps) sigma_max: with sigma (not sigma^2) weights, the
    d - rank noise eigenvalues and the unresolved small true ones move the entropy."""
    eps = np.finfo(np.float64).eps
    out = {}
    for c in ("none", "mean"):
        y = x - x.mean(axis=0) if c == "mean" else x
        lam = np.linalg.eigvalsh(y.T @ y)
        lam_thr = np.where(lam > y.shape[1] * eps * lam.max(), lam, 0.0)
        for sp in ("singular_values", "variances"):
            exact = R.effective_rank(x, sp, c)["value"]
            dev = []
            for l in (np.clip(lam, 0.0, None), lam_thr):
                s = l if sp == "variances" else np.sqrt(l)
                p = s / s.sum()
                p = p[p > 0]
                dev.append(float(np.exp(-np.sum(p * np.log(p))) / exact - 1.0))
            out[f"{sp}/{c}"] = {"clipped": dev[0], "threshold_d_eps": dev[1]}
    return out


def real_features(data, out_path):
    """Every metric on each published feature file ([2, n, d] float32), float64 on the float32
    values; unit metrics on l2-normalised rows, raw ones on the rows as stored."""
    import glob
    out = {}
    for path in sorted(glob.glob(os.path.join(data, "*.npy"))):
        pair = np.load(path)
        img, txt = pair[0].astype(np.float64), pair[1].astype(np.float64)
        e, sep = paired_metrics(img, txt)
        del e["mean_centred"]                    # n x d matrices: not pinned
        e["gap_by_dimension"] = {k: v[:10] for k, v in e["gap_by_dimension"].items()}  # top 10
        del e["captioned"]["ranks_image_to_text"], e["captioned"]["ranks_text_to_image"]
        e["n"], e["d"] = int(img.shape[0]), int(img.shape[1])
        e["svcca_q"] = [int(q) for q in e["svcca"]]
        e["checks"] = {"separability_sklearn": sklearn_check(img, txt, sep),
                       "effective_rank_gram_route": {"img": gram_route_deviation(img), "txt": gram_route_deviation(txt)}}
        out[os.path.basename(path)] = e
        print(os.path.basename(path), "done", flush=True)
    with open(out_path, "w") as f:
        json.dump(jsonable(out), f, indent=1, allow_nan=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "oracle"))
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    make_all(args.out)
    if args.data:
        real_features(args.data, os.path.join(HERE, "real_features_expected.json"))


if __name__ == "__main__":
    main()
