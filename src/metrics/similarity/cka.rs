use rayon::prelude::*;

use crate::gram::{cross_products, cross_products_between};
use crate::reduce::{max_abs_deviation, mean_row, sum_over_rows};
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
    check::same_len(a.len(), b.len())?;
    let n = a.len();
    check::at_least(
        match estimator {
            HsicEstimator::Biased => 2,
            HsicEstimator::Unbiased => 4,
        },
        n,
    )?;
    // Both estimators are translation-invariant for linear kernels: the value is computed on
    // the mean-centred rows, where the unbiased formula's terms do not cancel.
    let side_a = Side::of(a)?;
    let side_b = Side::of(b)?;
    let kl = cross_products_between(a.as_slice(), &side_a.mean, b.as_slice(), &side_b.mean)
        .norm_squared();
    let (kk, ll) = (side_a.frobenius, side_b.frobenius);
    let (kl, kk, ll) = match estimator {
        HsicEstimator::Biased => (kl, kk, ll),
        HsicEstimator::Unbiased => {
            let (norms_a, norms_b) = (
                squared_norms(a, &side_a.mean),
                squared_norms(b, &side_b.mean),
            );
            let (total_a, total_b) = (
                sum_over_rows(n, |i| norms_a[i]),
                sum_over_rows(n, |i| norms_b[i]),
            );
            let nf = n as f64;
            // ‖ÃᵀB̃‖²_F − n/(n−2)·Σᵢ‖ãᵢ‖²‖b̃ᵢ‖² + (Σ‖ãᵢ‖²)(Σ‖b̃ᵢ‖²)/((n−1)(n−2)), divided by
            // (Σ‖ãᵢ‖²)(Σ‖b̃ᵢ‖²): every term is then at most 1 (no overflow for any finite
            // ‖ÃᵀÃ‖²_F), and the ratio CKA does not change.
            let numerator = |frobenius: f64, x: &[f64], total_x: f64, y: &[f64], total_y: f64| {
                let products = sum_over_rows(n, |i| (x[i] / total_x) * (y[i] / total_y));
                frobenius / total_x / total_y - nf / (nf - 2.0) * products
                    + 1.0 / ((nf - 1.0) * (nf - 2.0))
            };
            let kk = numerator(kk, &norms_a, total_a, &norms_a, total_a);
            let ll = numerator(ll, &norms_b, total_b, &norms_b, total_b);
            // Each term of a set's normalised numerator with itself is at most about 1.
            let rounding = |d: usize| 16.0 * (n + d) as f64 * f64::EPSILON;
            check::some_variance(kk <= rounding(a.dim()))?;
            check::some_variance(ll <= rounding(b.dim()))?;
            (numerator(kl, &norms_a, total_a, &norms_b, total_b), kk, ll)
        }
    };
    let value = kl / (kk.sqrt() * ll.sqrt());
    Ok(match estimator {
        HsicEstimator::Biased => value.clamp(0.0, 1.0),
        HsicEstimator::Unbiased => value.clamp(-1.0, 1.0),
    })
}

/// One set's part of a CKA: its mean row and ‖ÃᵀÃ‖²_F.
struct Side {
    mean: Vec<f64>,
    frobenius: f64,
}

impl Side {
    /// The set's part, or the error for rows that are all equal or overflow.
    fn of<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<Self> {
        let first: Vec<f64> = x.row(0).iter().map(|v| v.to_f64()).collect();
        check::some_variance(max_abs_deviation(x, &first) == 0.0)?;
        let mean = mean_row(x);
        let gram = cross_products(x.as_slice(), x.as_slice(), x.dim(), &mean);
        let frobenius = check::no_overflow("the cross products of the rows", gram.norm_squared())?;
        // Spreads below about 1e-77 vanish (or go subnormal) in the fourth powers; a normal
        // ‖ÃᵀÃ‖²_F keeps the denominator √(HSIC_KK)·√(HSIC_LL) away from 0.
        check::some_variance(frobenius < f64::MIN_POSITIVE)?;
        Ok(Self { mean, frobenius })
    }
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
