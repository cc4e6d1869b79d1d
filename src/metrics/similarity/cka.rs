use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::gram::{cross_products, cross_products_between};
use crate::reduce::{mean_row, reach, sum_over_rows};
use crate::{Embeddings, Modality, Result, Scalar, check};

/// Which estimator of the Hilbert–Schmidt independence criterion (HSIC) a [`cka`] uses.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, HsicEstimator, Image, Text, cka};
///
/// let a = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0], [3.0, 1.0]])?;
/// let b = Embeddings::<f64, Text>::from_rows(&[[2.0], [0.0], [1.0], [-1.0]])?;
/// let biased = cka(&a, &b, HsicEstimator::Biased)?;
/// let unbiased = cka(&a, &b, HsicEstimator::Unbiased)?;
/// assert!((0.0..=1.0).contains(&biased) && (-1.0..=1.0).contains(&unbiased));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Kornblith et al. 2019 (biased, Eq. 3); Song et al. 2012, Eq. 5 (unbiased); both as
/// minyoungg/platonic-rep `metrics.py` (`hsic_biased`, `hsic_unbiased`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HsicEstimator {
    /// tr(K H L H), H = I − 11ᵀ/n (Gretton et al. 2005; the CKA of Kornblith et al. 2019).
    /// Biased upwards for small n: two independent sets score well above 0.
    Biased,
    /// The U-statistic of Song et al. 2012 (Eq. 5), unbiased for the population HSIC; needs
    /// n ≥ 4, and its CKA can be negative.
    Unbiased,
}

/// Linear centred kernel alignment (CKA, Kornblith et al. 2019) between two sets of paired
/// samples, whose dimensions may differ: how alike the two sets' similarity structures are.
///
/// ```text
/// K = A Aᵀ,  L = B Bᵀ                          (linear kernels over the n samples)
/// CKA = HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L))
/// Biased:    HSIC(K, L) = tr(K H L H),  H = I − 11ᵀ/n
///                       = ‖ÃᵀB̃‖²_F             (Ã, B̃: the rows minus their mean row)
/// Unbiased:  K̃, L̃ = K, L with zero diagonal,  n ≥ 4
///            HSIC(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2) · 1ᵀK̃L̃1] / (n(n−3))
/// ```
///
/// CKA is invariant to orthogonal maps and isotropic scaling of either set (not to other
/// linear maps). The biased value lies in [0, 1], 1 when B = s·A·Q; the unbiased one in
/// [−1, 1] (it is the HSIC estimate that is unbiased, not the ratio) and near 0 for
/// independent sets, where the biased value is not.
///
/// Centring: with linear kernels both estimators are invariant to translating either set
/// (the biased one because H centres K and L; the unbiased one because its U-statistic
/// averages ((aᵢ − aⱼ)·(a_q − a_r))((bᵢ − bⱼ)·(b_q − b_r)) over distinct i, j, q, r). So
/// minyoungg/platonic-rep's convention (kernels of the features as given) and the other one
/// (each set's mean row subtracted first) are the same number, and this function has no
/// centring option: it computes on the mean-centred rows, where the unbiased formula's terms
/// do not cancel. (On uncentred rows, as the reference computes it, the terms of tr(K̃L̃) and
/// 1ᵀK̃L̃1 grow with ‖mean‖² and cancel: 1.9e-7 relative on the random CLASP features.)
///
/// Exact from d × d cross products in O(n·(d_a + d_b)²), nothing n × n: with rows centred
/// (Σᵢ ãᵢ = 0), tr(K̃L̃) = ‖ÃᵀB̃‖²_F − Σᵢ‖ãᵢ‖²‖b̃ᵢ‖², 1ᵀK̃1 = −Σᵢ‖ãᵢ‖² and
/// 1ᵀK̃L̃1 = Σᵢ ‖ãᵢ‖²‖b̃ᵢ‖², so the unbiased numerator is
/// ‖ÃᵀB̃‖²_F − n/(n−2)·Σᵢ‖ãᵢ‖²‖b̃ᵢ‖² + (Σ‖ãᵢ‖²)(Σ‖b̃ᵢ‖²)/((n−1)(n−2)). The three d × d
/// matrices ÃᵀÃ, B̃ᵀB̃ and ÃᵀB̃ accumulate in f64 by blocked gemm over a fixed split
/// (deterministic for any number of threads). The factors 1/(n(n−3)) (and the 1/(n−1)² that
/// some write for the biased HSIC) cancel in the ratio.
///
/// The reference divides by √(HSIC(K, K)·HSIC(L, L)) + 1e-6. For the unbiased HSIC, divided
/// by n(n−3), that epsilon is not small: on the CLIP features of the crate's README it moves
/// CKA from the exact 0.60459 to 0.60447. This function returns the exact ratio, clamped to
/// [0, 1] (biased) or [−1, 1] (unbiased) against rounding.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless both sets have n rows;
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (biased) or n < 4
/// (unbiased); [`Error::ZeroVariance`](crate::Error::ZeroVariance) when all rows of a set are
/// equal (decided exactly on the rows) or spread so little (below about 1e-77) that ‖ÃᵀÃ‖²_F
/// is not a normal f64, or when HSIC(K, K) or HSIC(L, L) is zero or, for the
/// unbiased estimate, not positive: below the rounding of its terms, 16·(n + d)·ε·(Σᵢ‖ãᵢ‖²)².
/// That happens for non-constant sets too: the unbiased estimate of a set with all rows but
/// one equal, or of the four corners 0, e₁, e₂, e₃ of a simplex, is exactly 0 (the
/// reference's ratio is then 0/1e-6 or NaN). [`Error::Overflow`](crate::Error::Overflow) when
/// a cross-product matrix overflows f64 (entries beyond about 1e77).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, HsicEstimator, Image, Text, cka};
///
/// let a = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0], [3.0, 1.0]])?;
/// // The same samples rotated by 90°, scaled by 3 and moved: the same similarity structure.
/// let b = Embeddings::<f64, Text>::from_rows(&[[5.0, 3.0], [-1.0, 0.0], [2.0, -3.0], [2.0, 9.0]])?;
/// for estimator in [HsicEstimator::Biased, HsicEstimator::Unbiased] {
///     assert!((cka(&a, &b, estimator)? - 1.0).abs() < 1e-15);
/// }
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of Neural Network
/// Representations Revisited", ICML 2019. L. Song, A. Smola, A. Gretton, J. Bedo, K.
/// Borgwardt, "Feature Selection via Dependence Maximization", JMLR 13, 2012, Eq. 5. Code:
/// minyoungg/platonic-rep, `metrics.py` (`AlignmentMetrics.cka`, `hsic_biased`,
/// `hsic_unbiased`).
pub fn cka<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    estimator: HsicEstimator,
) -> Result<f64> {
    check_sets(a.len(), b.len(), estimator)?;
    // Both estimators are translation-invariant for linear kernels: the value is computed on
    // the mean-centred rows, where the unbiased formula's terms do not cancel.
    let (centre_a, centre_b) = (centre(a)?, centre(b)?);
    let (x, y) = (a.as_slice(), b.as_slice());
    let products = [
        cross_products(x, x, a.dim(), &centre_a),
        cross_products(y, y, b.dim(), &centre_b),
        cross_products_between(x, &centre_a, y, &centre_b),
    ];
    let rows = match estimator {
        HsicEstimator::Biased => None,
        HsicEstimator::Unbiased => Some(RowTerms::of((a, &centre_a), (b, &centre_b))),
    };
    cka_of(a.len(), (a.dim(), b.dim()), products, rows)
}

/// Checks that two sets of `n` and `m` rows can have a CKA with `estimator`.
pub(crate) fn check_sets(n: usize, m: usize, estimator: HsicEstimator) -> Result<()> {
    check::same_len(n, m)?;
    check::at_least(
        match estimator {
            HsicEstimator::Biased => 2,
            HsicEstimator::Unbiased => 4,
        },
        n,
    )
}

/// A set's mean row, or the error for rows that are all equal (decided exactly on the rows).
pub(crate) fn centre<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<Vec<f64>> {
    let first: Vec<f64> = x.row(0).iter().map(|v| v.to_f64()).collect();
    check::some_variance(reach(x, &first).coordinate == 0.0)?;
    Ok(mean_row(x))
}

/// The O(n·d) terms of the unbiased estimator, from the squared norms xᵢ = ‖ãᵢ‖² and
/// yᵢ = ‖b̃ᵢ‖² of the centred rows: Σx, Σy, and Σᵢ (uᵢ/Σu)(vᵢ/Σv) for (u, v) = (x, x),
/// (y, y) and (x, y).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct RowTerms {
    totals: [f64; 2],
    products: [f64; 3],
}

impl RowTerms {
    /// The terms of two sets, each with its mean row.
    pub(crate) fn of<T: Scalar, A: Modality, B: Modality>(
        (a, centre_a): (&Embeddings<T, A>, &[f64]),
        (b, centre_b): (&Embeddings<T, B>, &[f64]),
    ) -> Self {
        let n = a.len();
        let (x, y) = (squared_norms(a, centre_a), squared_norms(b, centre_b));
        let (total_x, total_y) = (sum_over_rows(n, |i| x[i]), sum_over_rows(n, |i| y[i]));
        let products = |u: &[f64], total_u: f64, v: &[f64], total_v: f64| {
            sum_over_rows(n, |i| (u[i] / total_u) * (v[i] / total_v))
        };
        Self {
            totals: [total_x, total_y],
            products: [
                products(&x, total_x, &x, total_x),
                products(&y, total_y, &y, total_y),
                products(&x, total_x, &y, total_y),
            ],
        }
    }
}

/// CKA of n paired rows of dimensions (d_a, d_b) from the cross products of the centred rows,
/// [ÃᵀÃ, B̃ᵀB̃, ÃᵀB̃], and for the unbiased estimator the [`RowTerms`].
pub(crate) fn cka_of(
    n: usize,
    (d_a, d_b): (usize, usize),
    [aa, bb, ab]: [DMatrix<f64>; 3],
    rows: Option<RowTerms>,
) -> Result<f64> {
    let (kk, ll) = (frobenius(&aa)?, frobenius(&bb)?);
    let kl = ab.norm_squared();
    // Finite for the products of any rows; a sharded part from outside bytes may hold anything.
    let ratio = |kl: f64, kk: f64, ll: f64| {
        check::no_overflow(
            "CKA's normalised cross products",
            kl / (kk.sqrt() * ll.sqrt()),
        )
    };
    let Some(RowTerms { totals, products }) = rows else {
        return Ok(ratio(kl, kk, ll)?.clamp(0.0, 1.0));
    };
    let nf = n as f64;
    // ‖ÃᵀB̃‖²_F − n/(n−2)·Σᵢ‖ãᵢ‖²‖b̃ᵢ‖² + (Σ‖ãᵢ‖²)(Σ‖b̃ᵢ‖²)/((n−1)(n−2)), divided by
    // (Σ‖ãᵢ‖²)(Σ‖b̃ᵢ‖²): every term is then at most 1 (no overflow for any finite ‖ÃᵀÃ‖²_F),
    // and the ratio CKA does not change.
    let numerator = |frobenius: f64, (x, y): (usize, usize), products: f64| {
        frobenius / totals[x] / totals[y] - nf / (nf - 2.0) * products
            + 1.0 / ((nf - 1.0) * (nf - 2.0))
    };
    let kk = numerator(kk, (0, 0), products[0]);
    let ll = numerator(ll, (1, 1), products[1]);
    // Each term of a set's normalised numerator with itself is at most about 1.
    let rounding = |d: usize| 16.0 * (nf + d as f64) * f64::EPSILON;
    check::some_variance(kk <= rounding(d_a))?;
    check::some_variance(ll <= rounding(d_b))?;
    let kl = numerator(kl, (0, 1), products[2]);
    Ok(ratio(kl, kk, ll)?.clamp(-1.0, 1.0))
}

/// ‖ÃᵀÃ‖²_F of a set's cross products, or the error for rows that overflow or spread too
/// little: spreads below about 1e-77 vanish (or go subnormal) in the fourth powers; a normal
/// ‖ÃᵀÃ‖²_F keeps the denominator √(HSIC_KK)·√(HSIC_LL) away from 0.
fn frobenius(gram: &DMatrix<f64>) -> Result<f64> {
    let frobenius = check::no_overflow("the cross products of the rows", gram.norm_squared())?;
    check::some_variance(frobenius < f64::MIN_POSITIVE)?;
    Ok(frobenius)
}

/// ‖xᵢ − mean‖² for every row, in f64.
fn squared_norms<T: Scalar, M: Modality>(x: &Embeddings<T, M>, mean: &[f64]) -> Vec<f64> {
    x.as_slice()
        .par_chunks(x.dim())
        .map(|row| {
            row.iter()
                .zip(mean)
                .map(|(v, m)| (v.to_f64() - m).powi(2))
                .sum()
        })
        .collect()
}
