//! Shared test support: the tolerances, in one place and justified, the oracle case loader,
//! and the small helpers more than one test file needs.
#![allow(dead_code)] // not every helper serves every build (features)

use std::ops::Range;
use std::path::PathBuf;

use modality_gap::{Embeddings, Image, Modality, Scalar, Temperature, Text, UnitEmbeddings};
use nalgebra::DMatrix;
use proptest::prelude::*;
use serde_json::Value;

/// f64 against the numpy oracle: |actual − expected| ≤ 1e-12 · max(1, |expected|), i.e. abs
/// 1e-12 or rel 1e-12, the oracle README's tolerance for closed-form reductions. Both sides
/// are exact f64 formulas; what differs is summation order (numpy sums pairwise, the crate in
/// fixed chunks), worth ≲ 1e-14 relative at these sizes.
pub const F64: f64 = 1e-12;

/// Results that are one or two roundings away from an exact value of order 1: 4 ulps of 1.
pub const ULPS: f64 = 4.0 * f64::EPSILON;

/// Metrics of rotated rows against the original rows. Rotating by a d × d orthogonal Q
/// computed in f64 (Householder QR) moves each row by about d·ε ≲ 3e-15 for d < 12, and the
/// contrastive loss at τ = 0.1 amplifies that by 10 and by the n ≤ 24 terms it sums: ≲ 1e-12.
/// 1e-10 leaves a factor 100.
pub const ROTATED: f64 = 1e-10;

/// The contrastive loss at logit scales up to 2000 on rows of norm up to 3: each logit is a
/// d-term f64 dot product (d < 12) times the scale, so it carries up to 2000·9·d·ε ≈ 5e-11
/// absolute rounding, and a cross-entropy is at most two such errors. Compared abs-or-rel,
/// 1e-10 is that bound.
pub const LARGE_LOGITS: f64 = 1e-10;

/// Sweeps against the oracle: abs 1e-10, the oracle README's tolerance for sweeps. The
/// notebook's validation loss divides each row by ‖x‖ + 1e-12, a relative change of 1e-12
/// that the logit scale 100 turns into at most about 1e-10 in a cross-entropy; the crate takes
/// unit rows as they are.
pub const SWEEP: f64 = 1e-10;

/// f32 input against the f64 oracle, same abs-or-rel form. Rounding the inputs to f32 (and,
/// for unit rows, renormalising in f32) perturbs every coordinate by at most 2u relative,
/// u = 2⁻²⁴ ≈ 6e-8; the crate then computes in f64 exactly as for f64 input. Most metrics are
/// averages of functions with condition numbers ≲ 10, so they move by ≲ 10u ≈ 6e-7. The
/// contrastive loss at τ = 0.01 is the exception in principle: each logit moves by up to
/// 2u/τ ≈ 1.2e-5; but the loss is a mean over n rows of cross-entropies whose logit errors
/// are independent roundings, and its measured error is of the same order as the others. The
/// largest difference measured over the oracle cases and the eight published feature files is
/// 1.1e-7 relative (tiny case, raw α = 2 alignment). 1e-6 ≈ 16u.
pub const F32: f64 = 1e-6;

/// The unit roundoff of `T`: 2⁻²⁴ for `f32`, 2⁻⁵³ for `f64` (the u of the uniformity's
/// rounding bound).
pub fn unit_roundoff<T: Scalar>() -> f64 {
    if T::NAME == "f32" {
        2f64.powi(-24)
    } else {
        2f64.powi(-53)
    }
}

/// What a uniformity may differ from its definition by beyond the crate's bound on the Gram
/// identity's rounding (`Error::Unresolved`): the f32 exponential's truncation, at most
/// 5.3e-9 (docs/metrics.md), the f64 exponential's 2 ulps and the f64 sums of at most a few
/// hundred terms, far below 1e-9 at the property tests' sizes.
pub const UNIFORMITY_BEYOND_BOUND: f64 = 1e-8;

/// Student's t quantile (and CDF) against 40-digit mpmath values and closed forms, relative
/// (abs-or-rel for probabilities). The quantile
/// solves ln P(tail) = ln 2q by Newton's method on ln u; at the root the residual is the
/// rounding of the incomplete beta function's log-prefactor and continued fraction (a few
/// ulps of terms up to ~10 for these cases) plus that of ln B(½, ν/2), and the slope
/// d ln P / d ln u is ≥ 0.8 at every root, so u errs by a few 1e-15 relative. The largest
/// error measured over a grid of ν from 3 to 10⁹ and q from 1e-20 to 0.4 is 4.7e-15; that
/// of the CDF at the points these tests use is 7.5e-15 (ν = 10⁶, t = −3.7), and 4e-14 in the
/// deep tail at ν = 10⁹, t = −20 (see `t_cdf`). 1e-13 leaves a factor 2.5 to 13, and the same bound
/// absorbs the few ulps of libm's tan, atan and sqrt in the closed forms for ν = 1 and 2.
pub const T_QUANTILE: f64 = 1e-13;

/// The oracle's t quantile for dof ≠ 2 (Simpson integration of the density with 20000
/// intervals, then bisection): the oracle README's rel 1e-8.
pub const T_INTEGRATED: f64 = 1e-8;

/// The crate's t quantile for ν = 1 and 2 against the closed forms tan(π(p − ½)) and
/// (2p − 1)/√(2p(1 − p)) evaluated as written, abs-or-rel. The written tan is the weak side:
/// its condition number |x|/|sin x cos x| at x = π(p − ½) is ≈ 1/(2 min(p, 1 − p)), 500 at
/// p = 0.001, so the rounding of π(p − ½) costs it up to ~500 ε ≈ 1e-13 relative. 1e-12
/// leaves a factor 10.
pub const T_CLOSED_FORM: f64 = 1e-12;

/// Against a number the paper prints with four decimals: half a unit of the last place.
pub const PAPER_4_DECIMALS: f64 = 5e-5;

/// Against a number the paper prints (or a figure reads) with three decimals: half a unit of
/// the last place.
pub const PAPER_3_DECIMALS: f64 = 5e-4;

/// Geometry of points rounded to f32, as the notebooks' `torch.tensor(...).float()` does:
/// each coordinate moves by up to u = 2⁻²⁴ ≈ 6e-8 relative, and a centroid distance of order 1
/// by about as much. 1e-7 ≈ 1.7u.
pub const F32_POINTS: f64 = 1e-7;

/// `|actual − expected| ≤ tol · max(1, |expected|)`.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    let bound = tol * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= bound,
        "{what}: got {actual:e}, expected {expected:e} (diff {:e} > {bound:e})",
        (actual - expected).abs()
    );
}

/// `|actual − expected| ≤ tol · |expected|`: relative only, for values that may be far below 1
/// in magnitude (uniformity of a tight cone is about −1e-4).
#[track_caller]
pub fn assert_relative(actual: f64, expected: f64, tol: f64, what: &str) {
    let bound = tol * expected.abs();
    assert!(
        (actual - expected).abs() <= bound,
        "{what}: got {actual:e}, expected {expected:e} (diff {:e} > {bound:e})",
        (actual - expected).abs()
    );
}

/// Element-wise [`assert_close`].
#[track_caller]
pub fn assert_all_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert_close(a, e, tol, &format!("{what}[{k}]"));
    }
}

/// One directory of `tests/data/oracle/` (a copy of `../shared/oracle/cases/`).
pub struct Case {
    dir: PathBuf,
    json: Value,
}

impl Case {
    pub fn load(name: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/oracle")
            .join(name);
        let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
        Self {
            dir,
            json: serde_json::from_str(&text).expect("valid JSON"),
        }
    }

    /// An input matrix as (n, d, row-major f64 values); a 3-D array as (n, d₁·d₂, …).
    pub fn matrix(&self, name: &str) -> (usize, usize, Vec<f64>) {
        let input = &self.json["inputs"][name];
        let shape: Vec<usize> = input["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|v| v.as_u64().expect("dim") as usize)
            .collect();
        let bytes = std::fs::read(self.dir.join(input["file"].as_str().expect("file"))).unwrap();
        let values: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        // A 3-D array (stacked layer weights) flattens to (first dimension, the rest).
        let (n, d) = match shape[..] {
            [n] => (n, 1),
            [n, ref rest @ ..] => (n, rest.iter().product()),
            _ => panic!("unexpected shape {shape:?}"),
        };
        assert_eq!(values.len(), n * d);
        (n, d, values)
    }

    /// An int64 input (labels) as indices.
    pub fn labels(&self, name: &str) -> Vec<usize> {
        let file = self.json["inputs"][name]["file"].as_str().expect("file");
        let bytes = std::fs::read(self.dir.join(file)).unwrap();
        bytes
            .chunks_exact(8)
            .map(|b| usize::try_from(i64::from_le_bytes(b.try_into().unwrap())).unwrap())
            .collect()
    }

    /// An input matrix as `Embeddings`, rounded to `T`.
    pub fn embeddings<T: Scalar, M: Modality>(&self, name: &str) -> Embeddings<T, M> {
        let (n, d, values) = self.matrix(name);
        let values = values.into_iter().map(T::from_f64).collect();
        Embeddings::from_row_major_vec(n, d, values).unwrap()
    }

    /// An input matrix, rounded to `T`, then normalised in `T`.
    pub fn unit<T: Scalar, M: Modality>(&self, name: &str) -> UnitEmbeddings<T, M> {
        UnitEmbeddings::normalize(self.embeddings(name)).unwrap()
    }

    /// The case's `img` and `txt` inputs as unit f64 embeddings.
    pub fn unit_pair(&self) -> (UnitEmbeddings<f64, Image>, UnitEmbeddings<f64, Text>) {
        (self.unit("img"), self.unit("txt"))
    }

    /// The value at `expected.<path>`.
    pub fn expected(&self, path: &[&str]) -> &Value {
        path.iter().fold(&self.json["expected"], |v, key| {
            let next = &v[*key];
            assert!(!next.is_null(), "no expected value at {path:?}");
            next
        })
    }

    /// The value at `reference_code.<path>`: an output of the reference repositories' own
    /// code, run on CPU by `tests/data/geometry/pin_reference_code.py`.
    pub fn reference_code(&self, path: &[&str]) -> &Value {
        path.iter().fold(&self.json["reference_code"], |v, key| {
            let next = &v[*key];
            assert!(!next.is_null(), "no reference-code value at {path:?}");
            next
        })
    }

    /// A number at `expected.<path>`; the oracle writes non-finite values as strings.
    pub fn number(&self, path: &[&str]) -> f64 {
        number(self.expected(path))
    }

    /// A list of numbers at `expected.<path>`.
    pub fn numbers(&self, path: &[&str]) -> Vec<f64> {
        numbers(self.expected(path))
    }
}

/// A JSON number, or one of the oracle's strings "NaN", "Infinity", "-Infinity".
pub fn number(v: &Value) -> f64 {
    match v {
        Value::Number(x) => x.as_f64().unwrap(),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => panic!("not a number: {v}"),
    }
}

/// A JSON list of numbers.
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(number).collect()
}

/// A JSON matrix (list of rows) as row-major values.
pub fn json_matrix(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("rows")
        .iter()
        .flat_map(numbers)
        .collect()
}

/// A JSON file of `tests/data/`, parsed.
pub fn data_json(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON matrix (list of rows) as `Embeddings`.
pub fn embeddings_from_json<T: Scalar, M: Modality>(v: &Value) -> Embeddings<T, M> {
    let rows: Vec<Vec<T>> = v
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| T::from_f64(number(x)))
                .collect()
        })
        .collect();
    Embeddings::from_rows(&rows).unwrap()
}

/// n × d row-major values, rounded to `T`, then normalised in `T`.
pub fn unit<T: Scalar, M: Modality>(n: usize, d: usize, v: &[f64]) -> UnitEmbeddings<T, M> {
    let values = v.iter().map(|&x| T::from_f64(x)).collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}

/// Rows of two coordinates, normalised, as f64 unit embeddings.
pub fn unit_from_rows<M: Modality>(rows: &[[f64; 2]]) -> UnitEmbeddings<f64, M> {
    UnitEmbeddings::normalize(Embeddings::from_rows(rows).unwrap()).unwrap()
}

/// The values of unit f64 embeddings, row-major.
pub fn rows_of<M: Modality>(x: &UnitEmbeddings<f64, M>) -> Vec<f64> {
    x.as_slice().to_vec()
}

/// A random orthogonal d × d matrix: the Q factor of a matrix with entries from `seed`.
pub fn orthogonal(d: usize, seed: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(d, d, |i, j| {
        seed[(i * d + j) % seed.len()] + if i == j { 2.0 } else { 0.0 }
    })
    .qr()
    .q()
}

/// Each row x of a row-major buffer ↦ Q x.
pub fn rotated(d: usize, v: &[f64], q: &DMatrix<f64>) -> Vec<f64> {
    v.chunks(d)
        .flat_map(|r| {
            (q * nalgebra::DVector::from_column_slice(r))
                .as_slice()
                .to_vec()
        })
        .collect()
}

/// n × d row-major values in [−1, 1] with no row of norm below 1e-3.
pub fn rows(n: usize, d: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(-1.0f64..1.0, n * d).prop_filter("no near-zero row", move |v| {
        v.chunks(d)
            .all(|r| r.iter().map(|x| x * x).sum::<f64>() > 1e-6)
    })
}

/// [`rows`] with n and d drawn from the ranges, as (n, d, values).
pub fn shaped_rows(
    n: Range<usize>,
    d: Range<usize>,
) -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (n, d).prop_flat_map(|(n, d)| rows(n, d).prop_map(move |v| (n, d, v)))
}

/// The laws of Procrustes and the projections on random data (n < 30, d < 8, entries in
/// [−1, 1], n ≥ 2d): W and the components orthogonal, X rebuilt from all d components, W = Qᵀ
/// for texts turned by Q, the identity no better than W. Each goes through a d × d f64 cross-
/// product matrix and its SVD or symmetric eigendecomposition, both backward stable: errors
/// are a few d·ε ≈ 1e-15 (times the condition number of Aᵀ B for W = Qᵀ, which n ≥ 2d random
/// rows keep small). Measured over the proptest cases: at most 1.7e-15 (the rebuilt X); at
/// 1e-14 every case passes. 1e-12 leaves a factor of more than 100 for unlucky spectra. (The
/// oracle comparisons of these modules use [`F64`]: on the tiny and cones cases the Gram route
/// agrees with numpy's SVD to 1e-14, as ε·S₁²/S₂² ≤ 2e-15 there predicts.)
pub const GRAM: f64 = 1e-12;

/// The temperature τ of a test, known valid.
pub fn temperature(tau: f64) -> Temperature {
    Temperature::new(tau).unwrap()
}

/// CKA, SVCCA and IsoScore by the crate's d × d route on random rows (tests/spectral.rs):
/// against the n × n CKA, and against themselves after an orthogonal map, a scaling or a
/// shift. Rounding of the rows (a few d·ε) is amplified by the conditioning: the
/// unbiased CKA of n = 4…24 rows divides numerators whose terms can exceed the value many
/// times, and SVCCA goes through Λ^(−1/2) of the correlation matrix (error about ε·λ₁/λ_q, up
/// to ~1e4·ε for random rows with n just above d). Measured over 3000 random cases (n < 24,
/// d < 8): 1.7e-12 (CKA moved), 8.6e-12 (SVCCA(A, A·Q) at q = d), 6e-14 (IsoScore scaled).
/// 1e-10 leaves a factor of 10. (Against the oracle, whose cases are better conditioned, these
/// metrics use [`F64`]: measured at most 1.4e-14.)
pub const SPECTRAL: f64 = 1e-10;

/// The effective rank of the σ spectrum (`Spectrum::SingularValues`) of the published feature
/// files, by the crate's Gram route, against the oracle's SVD: σ below √(d·ε)·σ₁ cannot be
/// resolved from XᵀX and is taken as 0, and σ just above carries an absolute error of about
/// ε·σ₁²/(2σ) (the function's docs). Files with many tiny σ move most: measured 8.9e-6
/// relative on the ConVIRT images (7.3e-7 texts, ≤ 1.1e-11 elsewhere). 1e-4 leaves a factor
/// of 10.
pub const ERANK_SINGULAR_VALUES: f64 = 1e-4;

/// The same for the σ² spectrum (`Spectrum::Variances`), where a lost λ weighs at most about
/// d·ε·ln(1/(d·ε)): measured 9.2e-12 relative (ConVIRT images). 1e-10 leaves a factor of 10.
pub const ERANK_VARIANCES: f64 = 1e-10;

/// platonic-rep's CKA and CKNNA divide by √(HSIC_KK·HSIC_LL) + 1e-6, an absolute epsilon,
/// where the crate divides by the square root alone: on the geometry oracle's cases (HSIC of
/// order 0.1 to 10) that moves the reference's value by at most 4.0e-6 (measured, CKNNA of
/// the medium case). 1e-5 bounds it; a wrong HSIC estimator moves CKA by far more.
pub const PLATONIC_EPSILON: f64 = 1e-5;

/// platonic-rep's `mutual_knn` counts with float32 masks and returns a float32 mean: its
/// values are the exact fractions rounded to float32 (measured within 3.7e-8; a float32 ulp
/// at 0.1 is 7.5e-9, the mean's rounding adds a few). 1e-7 bounds it; one neighbour more or
/// less moves the value by 1/(n·k) ≥ 5e-4 on these cases.
pub const PLATONIC_FLOAT32: f64 = 1e-7;

/// Leave-one-out values from a metric's one-pass jackknife against the metric recomputed on
/// each leave-one-out set (abs-or-rel), as issue 13 asks. Both are f64 formulas on the same
/// rows; the one-pass values come from per-row sums and a few O(1) updates, the recomputed
/// ones from fresh sums over n − 1 rows, so they differ by summation order: a few n·ε of the
/// sums' magnitude, ≲ 1e-14 for the n ≤ 64 used here. The standard errors are compared at the
/// same tolerance relative to themselves.
pub const JACKKNIFE: f64 = 1e-12;

/// Random unit rows, seeded: n × d Gaussian coordinates plus `offset` on the first
/// coordinate (a cone when `offset` > 0), rounded to `T` and normalised.
pub fn random_unit<T: Scalar, M: Modality>(
    n: usize,
    d: usize,
    offset: f64,
    seed: u64,
) -> UnitEmbeddings<T, M> {
    use rand::{SeedableRng, rngs::StdRng};
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f64> = (0..n * d)
        .map(|k| {
            let z: f64 = StandardNormal.sample(&mut rng);
            z + if k % d == 0 { offset } else { 0.0 }
        })
        .collect();
    unit(n, d, &values)
}

/// Leave-one-out values of the uniformity metrics on f32 rows against the metric recomputed
/// on each leave-one-out set, per unit of t: the kernel sees each row centred at the set's
/// mean and rounded to f32, and a set without one sample has another mean, so the recomputed
/// pass sees rows rounded differently, each coordinate by up to u = 2⁻²⁴ ≈ 6e-8 relative.
/// Every exponent −t‖xᵢ − xⱼ‖² (‖·‖² ≤ 4 on unit rows) then moves by up to about 4t·2u, and
/// so does the log of their mean: 5e-7·t ≈ t·8u is that bound (abs-or-rel, and relative to
/// the standard errors). Measured: 5.6e-9 at t = 2 and 1.7e-5 (2.4e-6 relative) at t = 300.
pub const JACKKNIFE_F32_KERNEL_PER_T: f64 = 5e-7;

/// The contrastive loss's two-pass jackknife on f32 rows against the loss recomputed
/// without each pair (abs-or-rel, and relative to the standard errors). Both sides see the
/// same f32 dot products, bit for bit (each is one FMA chain of its two rows, whichever rows
/// are left out), so the logit scale amplifies no difference between them: what differs is the
/// exponential, which f32 passes stop at Taylor degree 7 (5.3e-9 relative per term, the
/// kernel's `F32_EXP`). A log-sum-exp then errs by up to 5.3e-9, a share p = exp(z − lse) by
/// 1.1e-8 relative, and log(1 − p) by 1.1e-8·p/(1 − p) ≤ 3.2e-8 (p ≤ 3/4), or by 1.1e-8 where
/// it is the log of the rest of a row; a deviation (L − ℓᵢ + Σ_k log(1 − pₖᵢ))/(n − 1) by at
/// most 2·5.3e-9/(n − 1) + 3.2e-8, the value by 5.3e-9, the recomputed loss by 5.3e-9: in all
/// below 5e-8 (a column that holds 3/4 of every row, the worst case). 1e-7 leaves a factor 2.
/// Measured on the tests' sets: 1.2e-10 (leave-one-out values), 5.5e-11 (standard errors,
/// relative), the truncation errors of the two sides largely cancelling.
pub const JACKKNIFE_F32_CONTRASTIVE: f64 = 1e-7;

/// Asserts that a one-pass jackknife has the leave-one-out values and standard error of the
/// metric recomputed without each sample, within `tol` (abs-or-rel; relative for the
/// standard error).
#[track_caller]
pub fn assert_same_jackknife(
    fast: &modality_gap::Jackknife,
    brute: &modality_gap::Jackknife,
    tol: f64,
    what: &str,
) {
    assert_eq!(fast.len(), brute.len(), "{what}: lengths");
    assert_close(fast.value(), brute.value(), tol, &format!("{what}: value"));
    for (i, (f, b)) in fast.leave_one_out().zip(brute.leave_one_out()).enumerate() {
        assert_close(f, b, tol, &format!("{what}: θ₋{i}"));
    }
    assert_relative(
        fast.standard_error(),
        brute.standard_error(),
        tol,
        &format!("{what}: standard error"),
    );
}
/// The bootstrap standard error of a mean against its B → ∞ limit σ̂/√n, relative: the
/// standard deviation of B = 20 000 replicates estimates it with a relative standard error
/// of about 1/√(2(B − 1)) = 0.5 % (the replicates of a mean of 50 normal values are close to
/// normal). 2.5 % is five of them.
pub const BOOTSTRAP_SE: f64 = 0.025;

/// The fraction of p ≤ 0.05 under independence, for 400 replications of a permutation test
/// with m = 99: exactly 5/100 in expectation for a continuous metric (Phipson & Smyth), with
/// a binomial standard error of √(0.05·0.95/400) = 0.011. [0.02, 0.09] is −2.7 to +3.7 of
/// them (the upper side is the one a wrong p-value, such as #{≥}/m, would cross).
pub const NULL_REJECTION: std::ops::Range<f64> = 0.02..0.09;

/// The mean of observed − null mean over independent replications is 0 under independence
/// (the observed pairing is one more exchangeable permutation): it must lie within 4 of its
/// standard errors, by chance outside with probability 6e-5.
pub const NULL_MEAN_STANDARD_ERRORS: f64 = 4.0;

/// The root-mean-square grouped jackknife standard error of mutual_knn over 400 independent
/// samples, against the standard deviation of the metric over those samples. The latter is
/// known to ±3.5 % (400 replications), the former's mean square to a few %; the jackknife
/// variance is biased upwards (Efron & Stein 1981), more so for a statistic that is not a
/// smooth function of means. The ratio measured is in `docs/uncertainty.md`; [0.8, 1.5]
/// accepts that upward bias and rejects an estimate off by a factor of √(g) or of √(n/g).
pub const GROUPED_JACKKNIFE_SE_RATIO: std::ops::RangeInclusive<f64> = 0.8..=1.5;

/// BCa ends against scipy's `_bca_interval` on the same replicates, abs-or-rel. Both take
/// the same order statistics; the orders α₁, α₂ differ by the normal CDF and quantile (scipy's
/// `ndtr`/`ndtri`, the crate's Student t at dof = `usize::MAX`, each within about 1e-14), and
/// the interpolation multiplies an order's error by (B − 1) times the gap between neighbouring
/// replicates: 4000 × 0.02 × 1e-14 ≈ 1e-12 at most. Measured: 3.0e-14.
pub const SCIPY_BCA: f64 = 1e-12;
/// Seeded repetitions of a coverage simulation (tests/subsample.rs).
pub const COVERAGE_REPETITIONS: u64 = 1000;

/// Where the coverage of a 95 % interval over [`COVERAGE_REPETITIONS`] seeds must fall. With
/// the true coverage 95 %, the count covered is binomial with standard deviation
/// √(1000·0.95·0.05) ≈ 6.9, i.e. 0.69 %: ±2 % is ±2.9 standard deviations, which a correct
/// interval leaves with probability 0.4 % (and the seeds are fixed, so a pass stays a pass).
/// An interval whose standard error were off by 10 % would cover 92.9 % or 96.6 %, at or
/// near the edges. Measured: 95.7 % (uniformity), 95.0 % (cross-modal), 95.4 % (cone), 95.7 %
/// (the contrastive loss from random rows).
/// The same band serves every coverage simulation of the suite: with 2000 replications
/// (`tests/uncertainty_resampling.rs`) the standard deviation is 0.49 %, so ±4 of it around
/// the nominal level and ±2.9 around the 0.944 that numpy measured for the bootstrap
/// intervals there (an interval that under-covers by the plain normal-theory margin still
/// passes; one that misses the skew, 91 % and below at that n, does not); the jackknife
/// coverage of `tests/uncertainty.rs` runs 1000 replications per metric.
pub const COVERAGE_95: std::ops::RangeInclusive<f64> = 0.93..=0.97;

/// SE(4B)/SE(B) of an estimate from random pairs, against ½, absolute. The standard errors are
/// s_{4B}/√(4B) and s_B/√B, so the ratio is ½·s_{4B}/s_B; s estimates σ with a relative
/// standard deviation of about √((κ − 1)/(4B)), κ the kurtosis of the pair values (≤ 10 for
/// the potentials and cosines of tests/subsample.rs), ≤ 1.5 % at B = 10⁴, so the ratio errs
/// by ≲ 0.0075 there (less at the larger budgets, and the two estimates share their first B
/// pairs). Measured over the nine ratios: at most 0.0063 from ½. 0.02 is 2.7 of those
/// standard deviations at the smallest budget; a standard error that fell as 1/B or not at
/// all would give 0.25 or 1.
pub const SE_HALVES: f64 = 0.02;

/// A version 1.0 `.npy` file whose header text is `dict` padded with spaces to `pad_to`
/// bytes of header (so that the data starts at 10 + `pad_to`; 118 gives numpy's 128), then
/// `payload`.
pub fn npy_padded(dict: &str, pad_to: usize, payload: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while header.len() + 1 < pad_to {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(payload);
    file
}

/// The header dict of an array of `descr` and `shape` (a Python tuple), in C or Fortran order.
pub fn npy_dict(descr: &str, fortran: bool, shape: &str) -> String {
    let order = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}")
}
