"""
Numpy float64 reference oracle for the geometry metrics of issue 11 (modality-gap crate).

Independent re-implementations (no code copied) of the metrics in

  * lmb-freiburg/two-effects-one-trigger @ ed38130655aa2c69ef32ff8fb9991e78dd9963a5
      analysis/gap_precompute.py (compute_l2i, compute_rmg, recall_at_k),
      analysis/gap_mean_differences.py
  * abrar-fahim/contrastive-gap @ 8c1a17bff93a83db48163d604376c0f876c959e8
      src/evaluator.py (get_mscoco_uniformity, get_linear_seperability)
  * minyoungg/platonic-rep @ dcd76ba3c950c1b197a2ae8b1c6713535c94ecf9
      metrics.py (AlignmentMetrics.cka / mutual_knn / cknna / svcca, hsic_biased, hsic_unbiased)
  * bcbi-edu/p_eickhoff_isoscore @ 1edad0b7f6d30099687a851ee150d3b02f50c217
      IsoScore/IsoScore.py
  * yuhui-zh15/C3 @ 1a1641c317efd8f62ce5acf82eff8f8d2c7108b4
      image_captioning/src/datasets/dataset_coco.py, src/parse_data/compute_embed_means.py
  * Garrido et al. 2023 (RankMe) / Roy & Vetterli 2007 for the effective rank (no code read).

Every function is the *exact* float64 value of the formula stated in its docstring, computed
the straightforward way (n x n matrices, full SVDs): it is an oracle, not an implementation to
copy.  Each docstring names the reference function it mirrors and the reference's quirks.

Conventions (as SPEC.md of issue 11 and the crate):
  * rows are samples, x has shape (n, d); "a" is the image set, "b" the text set;
  * "unit" inputs are L2-normalised rows (``l2_normalize``); the functions that need unit rows
    do NOT normalise themselves, the caller does (make_cases.py);
  * ties in any ranking: the order of a *stable ascending* argsort read from the end, i.e.
    among equal similarities the larger index ranks higher (the crate's ``top_k`` and
    ``retrieval_recall`` convention, inherited from Weixin-Liang/Modality-Gap).
"""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np

__all__ = [
    "l2_normalize", "mean_paired_distance", "relative_gap", "gap_by_dimension",
    "cross_modal_uniformity", "hsic_biased", "hsic_unbiased", "cka", "top_k_indices",
    "mutual_knn", "cknna", "effective_rank", "isoscore", "zscore_columns", "svcca",
    "logistic_newton", "separability", "mean_centred", "retrieval_recall_1to1",
    "captioned_ranks", "captioned_recall", "captioned_align_loss",
    "captioned_mean_paired_distance", "captioned_relative_gap", "captioned_contrastive_loss",
    "logsumexp_rows",
]


# ----------------------------------------------------------------------------------------------
def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise x / ||x||_2 in float64 (no epsilon; a zero row gives NaN)."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def _mean_off_diagonal(g: np.ndarray) -> float:
    """Mean of the off-diagonal entries of a square matrix, as compute_rmg does it: the diagonal
    is set to 0, everything is summed and divided by n^2 - n (NaN/inf for n = 1)."""
    g = np.array(g, np.float64, copy=True)
    np.fill_diagonal(g, 0.0)
    n = g.shape[0]
    return float(g.sum() / (n * n - n))


# ----------------------------------------------------------------------------------------------
# 1. L2I
def mean_paired_distance(a: np.ndarray, b: np.ndarray) -> float:
    """L2I = (1/n) sum_i ||a_i - b_i||_2 on unit rows.

    Mirrors two-effects-one-trigger analysis/gap_precompute.py ``compute_l2i`` (lines 70-80):
    ``(image_features_per_text - text_feature_per_image).norm(dim=-1).mean()``.  Its "imagenet"
    branch pairs every image with the prompt of its label, its "coco" branch every caption with
    its image (see ``captioned_mean_paired_distance``); for 1:1 pairs both are this formula.
    The reference's features are unit rows because ``encode_clip`` normalises them (lines
    139, 166, 183); it does not normalise inside.  Its L2M (``compute_l2m``) is the crate's
    gap distance.
    """
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.mean(np.sqrt(np.einsum("ij,ij->i", d, d))))


# ----------------------------------------------------------------------------------------------
# 2. RMG
def relative_gap(a: np.ndarray, b: np.ndarray, image_of: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Relative modality gap RMG = d_m / (d_m + (d_A + d_B)/2) on unit rows.

      d_m = 1 - (mean_pairs <a, b> + 1)/2, replaced by 1e-3 when it is <= 0 (not '< 1e-3':
            the reference's ``torch.where(x > 0, x, 1e-3)``, so a d_m of 1e-5 stays 1e-5);
      d_A = 1 - (mean_{i != j} <a_i, a_j> + 1)/2, d_B likewise (off-diagonal means).

    Mirrors two-effects-one-trigger analysis/gap_precompute.py ``compute_rmg`` (lines 82-119),
    which writes each d as ``1 - (s + 1)/2`` (evaluated here in that order; (1 - s)/2 differs
    by an ulp).  The off-diagonal means are computed as the reference does: Gram matrix with
    its diagonal set to 0, summed, divided by n^2 - n.

    ``image_of`` (length m, text j -> image g(j)) selects the reference's "coco" branch:
    d_m runs over the m true (caption, image) pairs, d_A over the n *unique* images
    (``image_features_original``), d_B over all m captions, off-diagonal -- so pairs of captions
    of the same image are included.  Quirk: the reference builds ``labels_to_idx_map`` (a mask
    of same-image caption pairs, and of same-label pairs in the "imagenet" branch) and never
    uses it.  In the "imagenet" branch (one prompt per class, labels) d_A is over the images
    and d_B over the C prompts.

    Returns {"value", "matched" (= d_m after the floor), "within_a" (= d_A), "within_b" (= d_B)}.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a_per_pair = a if image_of is None else a[np.asarray(image_of)]
    s = float(np.mean(np.einsum("ij,ij->i", a_per_pair, b)))
    dm = 1.0 - (s + 1.0) / 2.0
    dm = dm if dm > 0 else 1e-3
    da = 1.0 - (_mean_off_diagonal(a @ a.T) + 1.0) / 2.0
    db = 1.0 - (_mean_off_diagonal(b @ b.T) + 1.0) / 2.0
    return {"value": dm / (dm + (da + db) / 2.0), "matched": dm, "within_a": da, "within_b": db}


# ----------------------------------------------------------------------------------------------
# 3. per-dimension gap
def gap_by_dimension(a: np.ndarray, b: np.ndarray) -> Dict[str, list]:
    """Delta = mean(a) - mean(b) (unit rows); dimensions sorted by |Delta_j| descending, ties to
    the lower dimension first; share_j = Delta_j^2 / ||Delta||^2.

    Mirrors two-effects-one-trigger analysis/gap_mean_differences.py (lines 32-51):
    rows normalised, ``diff_mean = img_mean - txt_mean``, ``abs_diff_mean.sort(descending=True)``
    and ``argsort(descending=True)[:5]`` (torch's sort is not stable: tie order unspecified;
    here ties go to the lower dimension).  The reference plots |Delta| only; the signed
    difference and the share of ||Delta||^2 are the crate's additions.  Quirk: in that script
    the model loop iterates over ``models`` -- the list it has just reset to [] (the list of
    model names is called ``model``, and ``model`` is then the loop variable) -- so as
    committed the loop body never runs.
    """
    delta = np.asarray(a, np.float64).mean(axis=0) - np.asarray(b, np.float64).mean(axis=0)
    order = np.argsort(-np.abs(delta), kind="stable")
    sq = float(np.dot(delta, delta))
    return {"dimension": [int(j) for j in order],
            "difference": [float(delta[j]) for j in order],
            "share": [float(delta[j] ** 2 / sq) for j in order]}


# ----------------------------------------------------------------------------------------------
# 4. cross-modal uniformity
def cross_modal_uniformity(a: np.ndarray, b: np.ndarray, t: float) -> float:
    """log( (1/(n(n-1))) sum_{i != j} exp(-t ||a_i - b_j||^2) ), unit rows, n = m >= 2.

    Mirrors contrastive-gap src/evaluator.py ``get_mscoco_uniformity`` (lines 873-914), key
    'cross_encoder_uniform_loss': ``torch.cdist(image, text)`` masked to i != j (``tril(-1) +
    triu(1)`` of ones: both triangles, only the matched pairs dropped), ``.square()`` (so the
    distance IS squared), ``.mul(-2)`` (t = 2, fixed), ``.exp().mean().log()``.  Differences from
    the reference: t is a parameter; the log-mean-exp is shifted by its maximum (the reference's
    literal exp underflows to -inf only for t*||.||^2 > ~745 in f64 / ~103 in f32, impossible
    for unit rows at t <= 2); squared distances come from explicit differences here, while
    torch.cdist on more than 25 rows uses the matmul form ||a||^2 + ||b||^2 - 2 a.b
    ('use_mm_for_euclid_dist_if_necessary'), which loses ~1e-8 relative accuracy in f32.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    n = a.shape[0]
    diff = a[:, None, :] - b[None, :, :]
    z = -t * np.einsum("ijk,ijk->ij", diff, diff)
    z = z[~np.eye(n, dtype=bool)]
    m = z.max()
    return float(m + np.log(np.mean(np.exp(z - m))))


# ----------------------------------------------------------------------------------------------
# 5. CKA
def hsic_biased(K: np.ndarray, L: np.ndarray) -> float:
    """tr(K H L H), H = I - 11^T/n (no 1/(n-1)^2 factor).  Mirrors platonic-rep metrics.py
    ``hsic_biased`` (lines 252-255)."""
    n = K.shape[0]
    H = np.eye(n) - 1.0 / n
    return float(np.trace(K @ H @ L @ H))


def hsic_unbiased(K: np.ndarray, L: np.ndarray) -> float:
    """Song et al. (2012) Eq. 5, literal: with K~, L~ = K, L with zero diagonal,

        [ sum(K~ o L~^T) + sum(K~) sum(L~)/((n-1)(n-2)) - 2 sum(K~ L~)/(n-2) ] / (n(n-3)).

    Mirrors platonic-rep metrics.py ``hsic_unbiased`` (lines 230-249), including its
    elementwise ``K_tilde * L_tilde.T`` (= tr(K~ L~) also for the non-symmetric masked kernels
    of ``cknna``).  Needs n >= 4 (n = 3 divides by 0)."""
    n = K.shape[0]
    Kt = np.array(K, np.float64, copy=True)
    Lt = np.array(L, np.float64, copy=True)
    np.fill_diagonal(Kt, 0.0)
    np.fill_diagonal(Lt, 0.0)
    v = (np.sum(Kt * Lt.T) + Kt.sum() * Lt.sum() / ((n - 1) * (n - 2))
         - 2.0 * np.sum(Kt @ Lt) / (n - 2))
    return float(v / (n * (n - 3)))


def cka(a: np.ndarray, b: np.ndarray, unbiased: bool = False, centring: str = "none",
        literal: bool = False) -> float:
    """Linear CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), K = A A^T, L = B B^T, exact.

    Mirrors platonic-rep metrics.py ``AlignmentMetrics.cka`` (lines 95-119) with
    kernel_metric='ip', which (a) takes the features as given -- no feature centring, no
    normalisation (``centring="none"``); ``centring="mean"`` subtracts each set's mean row
    first (Kornblith et al. 2019's convention) -- and (b) divides by
    ``torch.sqrt(hsic_kk * hsic_ll) + 1e-6``.  That epsilon is absolute, so platonic-rep's CKA
    is not scale invariant: with the unbiased HSIC (divided by n(n-3)) it shifts CKA by ~1e-4 on
    CLIP (0.60447 vs the exact 0.60459), and on features_clasp_random, whose rows are nearly
    parallel (sqrt(HSIC_KK HSIC_LL) = 2.4e-10 unbiased, 2.9e-6 biased), it gives 5.4e-6 instead of
    0.0223 (unbiased) and 0.0295 instead of 0.0397 (biased); in float32 its unbiased value is
    NaN there.  Here: no epsilon.  The unbiased value may be negative; it is returned as is.

    Centring is a mathematical no-op for BOTH estimators: the biased HSIC centres K and L by H,
    and the unbiased HSIC (a U-statistic) is unchanged when k_ij becomes k_ij + f(i) + f(j) + c,
    which is what subtracting a constant row from the features does to a linear kernel (the
    f-terms cancel between its three sums).  Numerically the uncentred n x n formula cancels
    badly when the rows share a large common component (a cone): on features_clasp_random the
    literal uncentred f64 value errs by 1.9e-7 relative (2.3e-11 biased), on
    features_convirt_random by 6.9e-9, against the centred value (which agrees with an 80-bit
    long-double computation to ~1e-16).  So this oracle computes every variant from the
    mean-centred features; ``literal=True`` gives the uncentred n x n computation instead (for
    comparison with the reference).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if centring not in ("none", "mean"):
        raise ValueError(centring)
    if not literal or centring == "mean":
        a = a - a.mean(axis=0)
        b = b - b.mean(axis=0)
    K, L = a @ a.T, b @ b.T
    h = hsic_unbiased if unbiased else hsic_biased
    return h(K, L) / math.sqrt(h(K, K) * h(L, L))


# ----------------------------------------------------------------------------------------------
# 6. mutual k-NN and CKNNA
def top_k_indices(x: np.ndarray, k: int) -> np.ndarray:
    """(n, k) inner-product nearest neighbours of every row within x, self excluded, best first;
    ties: the larger index first (the last k of a stable ascending argsort of the row with the
    self entry set to -inf)."""
    s = np.asarray(x, np.float64) @ np.asarray(x, np.float64).T
    np.fill_diagonal(s, -np.inf)
    order = np.argsort(s, axis=1, kind="stable")
    return order[:, ::-1][:, :k]


def mutual_knn(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """(1/(n k)) sum_i |N_k^A(i) ∩ N_k^B(i)|, inner-product neighbours (unit rows in the cases).

    Mirrors platonic-rep metrics.py ``AlignmentMetrics.mutual_knn`` (lines 54-84) and
    ``compute_nearest_neighbors`` (lines 272-285): ``(feats @ feats.T).fill_diagonal_(-1e8)
    .argsort(dim=1, descending=True)[:, :topk]``, then the overlap of two n x n 0/1 masks.
    Quirks: the self-exclusion is by the value -1e8, so it works only while every similarity
    is above -1e8 (true for unit rows); torch's argsort is not stable, so on exact ties the
    reference's neighbour set is unspecified -- here the larger index wins (crate's top_k).
    The reference does not check k < n (k >= n takes the self entry as a neighbour).
    """
    na, nb = top_k_indices(a, k), top_k_indices(b, k)
    n = na.shape[0]
    hits = sum(len(set(na[i]).intersection(nb[i])) for i in range(n))
    return hits / (n * k)


def cknna(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """CKNNA (Huh et al. 2024) as platonic-rep computes it with its defaults
    (distance_agnostic=False, unbiased=True), without the +1e-6:

      K = A A^T, L = B B^T; M_X[i, j] = 1 iff j is among the k nearest neighbours of i in X
      (self excluded: diagonal -inf before topk; ties to the larger index here);
      sim(X, Y) = hsic_unbiased((M_X o M_Y) o X, (M_X o M_Y) o Y)   (o: elementwise);
      CKNNA = sim(K, L) / sqrt(sim(K, K) sim(L, L)).

    Mirrors platonic-rep metrics.py ``AlignmentMetrics.cknna`` (lines 179-227).  Quirks:
    (1) ``topk=None`` is the default, but ``if topk < 2`` runs before ``if topk is None``, so the
        default raises TypeError ('<' between NoneType and int); the intended default n - 1
        is unreachable.  k >= 2 is required.
    (2) the masks are not symmetric, and hsic_unbiased's ``K_tilde * L_tilde.T`` pairs entry
        (i, j) with (j, i): a pair counts in the cross term only when j is a (mutual) neighbour
        of i AND i of j.  Mirrored as is.
    (3) the denominator is ``torch.sqrt(sim_kk * sim_ll) + 1e-6`` (absolute); omitted here.
    (4) torch.topk's order on exact ties is unspecified.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    K, L = a @ a.T, b @ b.T
    n = K.shape[0]

    def mask(x):
        m = np.zeros((n, n))
        idx = top_k_indices(x, k)
        m[np.arange(n)[:, None], idx] = 1.0
        return m

    mk, ml = mask(a), mask(b)

    def sim(X, Y, mx, my):
        m = mx * my
        return hsic_unbiased(m * X, m * Y)

    return sim(K, L, mk, ml) / math.sqrt(sim(K, K, mk, mk) * sim(L, L, ml, ml))


# ----------------------------------------------------------------------------------------------
# 7. effective rank
def effective_rank(x: np.ndarray, spectrum: str = "singular_values", centring: str = "none") -> Dict[str, float]:
    """erank = exp(-sum_j p_j ln p_j) over p_j > 0, p_j = s_j / sum s, where s_j = sigma_j
    (``spectrum="singular_values"``, Roy & Vetterli; RankMe, Garrido et al. 2023) or sigma_j^2
    (``"variances"``: the PCA variances), sigma = singular values of x (``centring="none"``) or
    of x - mean(x) (``"mean"``), from a full LAPACK SVD in f64.

    bound = min(n - 1, d) if centred else min(n, d); normalised = value / bound.

    RankMe's reference formula adds 1e-7 to each p_j (p = s/||s||_1 + eps): not mirrored.  The
    MONAI issue #8996 discussion is about the normalisation by min(n, d) vs min(n - 1, d) for
    centred data (n - 1 is the rank bound after centring).  Note for the Gram route (eigenvalues
    of X^T X): sigma_j^2 carries an absolute error ~ eps * sigma_max^2, so singular values
    below ~1.5e-8 sigma_max are noise there; here exactly-rank-deficient spectra give sigma_j
    ~ 1e-16 sigma_max and contribute < 1e-13 to the entropy.
    """
    x = np.asarray(x, np.float64)
    n, d = x.shape
    if centring == "mean":
        x = x - x.mean(axis=0)
    s = np.linalg.svd(x, compute_uv=False)
    if spectrum == "variances":
        s = s * s
    p = s / s.sum()
    p = p[p > 0]
    value = float(np.exp(-np.sum(p * np.log(p))))
    bound = min(n - 1, d) if centring == "mean" else min(n, d)
    return {"value": value, "bound": bound, "normalised": value / bound}


# ----------------------------------------------------------------------------------------------
# 8. IsoScore
def isoscore(x: np.ndarray) -> float:
    """IsoScore (Rudman et al. 2022) of the rows of x (n samples, d dims):

      lambda = eigenvalues of the sample covariance (ddof = 1; the scale cancels),
      lambda^ = lambda * sqrt(d) / ||lambda||,
      delta = ||lambda^ - 1|| / sqrt(2 (d - sqrt(d)))          (isotropy defect),
      IsoScore = ((d - delta^2 (d - sqrt(d)))^2 - d) / (d (d - 1)),
    i.e. (d k - 1)/(d - 1) with k = (d - delta^2 (d - sqrt(d)))^2 / d^2.  Exactly 1 when all
    lambda are equal and exactly 0 when one is nonzero.

    Mirrors p_eickhoff_isoscore IsoScore/IsoScore.py ``IsoScore`` (lines 72-89) with its steps
    ``pca_normalization`` (18-25), ``get_diag_of_cov`` (28-34, np.cov: ddof = 1),
    ``normalize_diagonal`` (37-42), ``get_isotropy_defect`` (45-53), ``get_IsoScore`` (56-61).
    Quirks: the reference takes the point cloud TRANSPOSED, shape (d, n) -- points are
    columns; its "n" is our d.  It runs sklearn PCA with n_components = d, which raises when
    n < d (here: the d eigenvalues, n - 1 of them nonzero, are used).  The PCA-rotated points'
    covariance diagonal equals the covariance eigenvalues.
    """
    x = np.asarray(x, np.float64)
    d = x.shape[1]
    lam = np.linalg.eigvalsh(np.cov(x, rowvar=False, ddof=1))
    lam = np.clip(lam, 0.0, None)
    lh = lam * math.sqrt(d) / np.linalg.norm(lam)
    delta = np.linalg.norm(lh - 1.0) / math.sqrt(2.0 * (d - math.sqrt(d)))
    return float(((d - delta ** 2 * (d - math.sqrt(d))) ** 2 - d) / (d * (d - 1)))


# ----------------------------------------------------------------------------------------------
# 9. SVCCA
def zscore_columns(x: np.ndarray) -> np.ndarray:
    """Every column minus its mean, divided by its std with ddof = 1 (torch.std's default);
    a zero-variance column stays 0.  platonic-rep's ``preprocess_activations`` divides by
    std + 1e-8, which gives 0 for a zero-variance column too and rescales column j by
    1/(1 + 1e-8/std_j) (a change of the top-q subspaces unless all stds are equal): measured on
    the eight published feature files, SVCCA (q = 1, 5, 10, exact subspaces) moves by at most
    3e-8, except features_clasp_random (column stds down to 6e-5) with up to 1.2e-6."""
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    out = np.zeros_like(x)
    nz = sd > 0
    out[:, nz] = x[:, nz] / sd[nz]
    return out


def svcca(a: np.ndarray, b: np.ndarray, q: int) -> float:
    """SVCCA = mean of the q canonical correlations between the top-q left singular subspaces
    of the z-scored sets = mean singular value of U1^T U2 (U1, U2: n x q, orthonormal, exact
    top-q left singular vectors from a full SVD).

    Mirrors platonic-rep metrics.py ``AlignmentMetrics.svcca`` (lines 128-160; cca_dim = q,
    default 10).  Reference: z-score with std + 1e-8; ``torch.svd_lowrank(feats, q=cca_dim)``
    -- a randomised range finder (niter = 2 power iterations, no oversampling), so its U is
    only an approximate top-q basis and varies run to run (0.514 and 0.564 on features_clip
    q = 10, exact 0.6205); then sklearn ``CCA(n_components=q)`` (iterative NIPALS, tol 1e-6,
    max_iter 500) on U1, U2, + 1e-10 * randn on the canonical variates, and the mean of the
    per-component ``np.corrcoef``.  With orthonormal centred U1, U2 the canonical correlations
    are exactly the singular values of U1^T U2.  Requires 1 <= q <= min(d, n - 1) per set.
    """
    za, zb = zscore_columns(a), zscore_columns(b)
    u1 = np.linalg.svd(za, full_matrices=False)[0][:, :q]
    u2 = np.linalg.svd(zb, full_matrices=False)[0][:, :q]
    return float(np.mean(np.linalg.svd(u1.T @ u2, compute_uv=False)))


# ----------------------------------------------------------------------------------------------
# 10. modality separability
def logistic_newton(X: np.ndarray, y: np.ndarray, C: float = 1.0, tol: float = 1e-14, max_iter: int = 200):
    """Minimise 0.5 ||w||^2 + C sum_i [log(1 + exp(z_i)) - y_i z_i], z_i = w.x_i + c (sklearn's
    LogisticRegression objective, intercept c unpenalised) by Newton's method on (w, c):
    gradient X1^T (p - y) C + (w, 0), Hessian C X1^T diag(p(1-p)) X1 + diag(1, .., 1, 0).
    Stops when the Newton step's max-norm is <= tol * max(1, ||theta||_inf) (after at least one
    step).  Returns (w, c, iterations)."""
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    n, d = X.shape
    X1 = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    reg = np.ones(d + 1)
    reg[-1] = 0.0
    for it in range(1, max_iter + 1):
        z = X1 @ theta
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic sigmoid without overflow
        g = C * (X1.T @ (p - y)) + reg * theta
        H = C * (X1.T * (p * (1.0 - p))) @ X1 + np.diag(reg)
        step = np.linalg.solve(H, g)
        theta = theta - step
        if np.max(np.abs(step)) <= tol * max(1.0, np.max(np.abs(theta))):
            break
    return theta[:-1], float(theta[-1]), it


def separability(a: np.ndarray, b: np.ndarray, C: float = 1.0) -> Dict[str, float]:
    """Held-out accuracy of an L2-regularised logistic regression separating a (label 1) from
    b (label 0).  Split: sample i of each set is a test sample iff i % 5 == 4, i.e.
    floor(n/5) test samples per set (about 20 %), the rest train.
    Prediction: label 1 iff w.x + c > 0 (sklearn's ``predict``: decision_function > 0 picks
    classes_[1]; exactly 0 picks label 0).  Solved by ``logistic_newton``.

    Reference: contrastive-gap src/evaluator.py ``get_linear_seperability`` (lines 1602-1674):
    rows normalised by their norm, ``n_train = int(0.8 * n)`` pairs chosen by
    ``torch.randperm`` (the same indices for images and texts), images labelled 0 and texts
    1, each split shuffled, ``LogisticRegression(random_state=seed)`` with sklearn's defaults
    (C = 1, lbfgs, max_iter = 100, tol = 1e-4: not converged to more than ~4 digits), and
    ``clf.score`` on the test split.  Quirk: its comment says "train on 20% of the data and test
    on 80%", the code trains on 80 % and tests on 20 %.  The random split is replaced by the
    deterministic i % 5 == 4 rule; the label swap (a = 1 here) flips (w, c) to (-w, -c) and
    changes nothing but exact-zero decisions.
    Returns {"accuracy", "train_accuracy", "test_count", "train_count", "w", "c", "iterations"}.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    ta = np.arange(a.shape[0]) % 5 == 4
    tb = np.arange(b.shape[0]) % 5 == 4
    Xtr = np.vstack([a[~ta], b[~tb]])
    ytr = np.concatenate([np.ones((~ta).sum()), np.zeros((~tb).sum())])
    Xte = np.vstack([a[ta], b[tb]])
    yte = np.concatenate([np.ones(ta.sum()), np.zeros(tb.sum())])
    w, c, it = logistic_newton(Xtr, ytr, C)
    acc = lambda X, y: float(np.mean(((X @ w + c) > 0).astype(float) == y)) if len(y) else float("nan")
    return {"accuracy": acc(Xte, yte), "train_accuracy": acc(Xtr, ytr),
            "test_count": int(len(yte)), "train_count": int(len(ytr)),
            "w": w, "c": c, "iterations": it}


# ----------------------------------------------------------------------------------------------
# 11. C3 mean-centring
def mean_centred(x: np.ndarray) -> np.ndarray:
    """normalize(x - mean(x)) of unit rows x (one modality).

    Mirrors C3 image_captioning/src/datasets/dataset_coco.py (lines 194-208 for text, 217-232
    for images): ``prefix / prefix.norm()``, ``prefix -= embed_mean`` (remove_mean),
    ``F.normalize(prefix)`` (re_normalize_prefix), with the mean from
    src/parse_data/compute_embed_means.py: the mean of the *normalised* embeddings.  Quirk /
    difference: C3 takes the mean over the COCO *training* split and applies it to every split
    (and the text mean over all captions); here the mean is that of the set itself.
    F.normalize clamps the norm at 1e-12; here a row equal to the mean gives NaN (the crate
    must reject it).
    """
    x = np.asarray(x, np.float64)
    return l2_normalize(x - x.mean(axis=0))


def retrieval_recall_1to1(a: np.ndarray, b: np.ndarray, k: int):
    """[a->b, b->a] Recall@K with paired rows i <-> i, ties as a stable ascending argsort (larger
    index ranks higher): the crate's ``retrieval_recall`` and the shared oracle's
    ``retrieval_recall_at_k`` (Weixin-Liang/Modality-Gap train_clip.py ``evaluate_retrieval``)."""
    s = np.asarray(a, np.float64) @ np.asarray(b, np.float64).T
    n = s.shape[0]
    rows = np.argsort(s, axis=1, kind="stable")[:, -k:]
    cols = np.argsort(s, axis=0, kind="stable")[-k:, :]
    return [float(np.mean([i in rows[i] for i in range(n)])),
            float(np.mean([i in cols[:, i] for i in range(n)]))]


# ----------------------------------------------------------------------------------------------
# 12. many captions per image
def _rank_in_row(row: np.ndarray, j: int) -> int:
    """#{l : row[l] > row[j]} + #{l > j : row[l] == row[j]} (0 = first)."""
    return int(np.sum(row > row[j]) + np.sum(row[j + 1:] == row[j]))


def captioned_ranks(img: np.ndarray, txt: np.ndarray, image_of: np.ndarray):
    """Ranks of the many-captions protocol (cosine similarity of unit rows, ties: larger index
    ranks higher):

      text -> image, for each text j:  rank_j = #{g : s(g, j) > s(g(j), j)}
                                                + #{g > g(j) : s(g, j) = s(g(j), j)};
      image -> text, for each image i: rank_i = min over captions c of i of
            #{l : s(i, l) > s(i, c)} + #{l > c : s(i, l) = s(i, c)}
        (= the rank of its best-placed caption).

    Mirrors two-effects-one-trigger analysis/gap_precompute.py ``recall_at_k`` (lines 24-63,
    adopted from openai/CLIP issue 115): a hit at K for image -> text if ANY of its captions is
    in the top K, for text -> image if its image is.  Differences: the reference uses
    ``torch.argsort(descending=True)`` (unstable: tie order unspecified), assumes the same
    number of captions per image (``image_to_text_map`` is an n x 5 tensor; the COCO loader
    truncates to 5 captions, ``texts[:5]``), and returns [t2i], [i2t] in that order.
    Returns (ranks_image_to_text (n,), ranks_text_to_image (m,)).
    """
    s = np.asarray(img, np.float64) @ np.asarray(txt, np.float64).T  # n x m
    image_of = np.asarray(image_of)
    n, m = s.shape
    t2i = np.array([_rank_in_row(s[:, j], int(image_of[j])) for j in range(m)], dtype=np.int64)
    i2t = np.array([min(_rank_in_row(s[i], c) for c in np.flatnonzero(image_of == i)) for i in range(n)],
                   dtype=np.int64)
    return i2t, t2i


def captioned_recall(img, txt, image_of, k: int):
    """[image->text, text->image] Recall@K from ``captioned_ranks`` (hit iff rank < K)."""
    i2t, t2i = captioned_ranks(img, txt, image_of)
    return [float(np.mean(i2t < k)), float(np.mean(t2i < k))]


def captioned_align_loss(img, txt, image_of, alpha: float = 2.0) -> float:
    """L_align over the m true pairs: (1/m) sum_j ||img_{g(j)} - txt_j||^alpha (Wang & Isola,
    SsnL/align_uniform ``align_loss``, with the pairs of the COCO convention)."""
    d = np.asarray(img, np.float64)[np.asarray(image_of)] - np.asarray(txt, np.float64)
    return float(np.mean(np.sqrt(np.einsum("ij,ij->i", d, d)) ** alpha))


def captioned_mean_paired_distance(img, txt, image_of) -> float:
    """L2I over the m true pairs: two-effects-one-trigger ``compute_l2i`` "coco" branch
    (``torch.stack([image_features[i] for i in text_to_image_map])`` against the texts)."""
    return mean_paired_distance(np.asarray(img, np.float64)[np.asarray(image_of)], txt)


def captioned_relative_gap(img, txt, image_of) -> Dict[str, float]:
    """RMG, COCO convention: ``relative_gap(img, txt, image_of)`` (d_m over the m true pairs,
    d_A over the n unique images, d_B over the m texts)."""
    return relative_gap(img, txt, image_of)


def logsumexp_rows(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)))[:, 0]


def captioned_contrastive_loss(img, txt, image_of, tau: float) -> Dict[str, float]:
    """Contrastive loss with several captions per image, logits = cos / tau (unit rows):

      b_to_a (text -> image) = (1/m) sum_j [ logsumexp_g(s_gj/tau) - s_{g(j) j}/tau ]
            (standard cross-entropy over the n images, target: its image);
      a_to_b (image -> text) = (1/n) sum_i [ logsumexp_l(s_il/tau) - (1/|C_i|) sum_{c in C_i} s_ic/tau ]
            = the mean over images of the mean of the per-caption cross-entropies
            (SupCon's "L_out": positives averaged outside the log; Khosla et al. 2020, Eq. 2);
      symmetric = (a_to_b + b_to_a) / 2.

    With image_of = identity this is the CLIP loss (Weixin-Liang/Modality-Gap ``ce_loss``,
    the shared oracle's ``clip_contrastive_loss`` at logit_scale = 1/tau).
    """
    s = np.asarray(img, np.float64) @ np.asarray(txt, np.float64).T / tau  # n x m
    image_of = np.asarray(image_of)
    n, m = s.shape
    t2i = float(np.mean(logsumexp_rows(s.T) - s[image_of, np.arange(m)]))
    lse = logsumexp_rows(s)
    i2t = float(np.mean([lse[i] - np.mean(s[i, image_of == i]) for i in range(n)]))
    return {"symmetric": (i2t + t2i) / 2.0, "a_to_b": i2t, "b_to_a": t2i}
