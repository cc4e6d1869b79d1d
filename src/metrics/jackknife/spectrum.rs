//! The spectra of one set (IsoScore, the effective rank): functions of the d × d scatter
//! matrix, whose leave-one-out value is a rank-one downdate of it.

use super::downdate::downdated_eigenvalues;
use super::products::{Centred, Products};
use crate::gram::{apply_to_rows, cross_products, rounding_level, top_components};
use crate::kernel::vectorised;
use crate::metrics::spectrum::{drop_rounding, of_participation, rank_of_spectrum};
use crate::{
    Centring, Embeddings, HsicEstimator, Jackknife, Method, Modality, Result, Scalar, Spectrum,
    check,
};
use rayon::prelude::*;

/// The jackknife of [`isoscore`](crate::isoscore), exactly and in O(n·d²), the cost of the
/// metric. IsoScore is ((Σλ)²/Σλ² − 1)/(d − 1) with Σλ = tr S and Σλ² = ‖S‖²_F for the scatter
/// matrix S = Σⱼ ỹⱼỹⱼᵀ of the centred rows; leaving row i out moves the mean, and with
/// c = n/(n − 1):
///
/// ```text
/// S₋ᵢ = S − c ỹᵢỹᵢᵀ,     tr S₋ᵢ = tr S − c‖ỹᵢ‖²,     ‖S₋ᵢ‖²_F = ‖S‖²_F − 2c ỹᵢᵀSỹᵢ + c²‖ỹᵢ‖⁴
/// ```
///
/// IsoScore₋ᵢ is the formula on these, clamped to [0, 1] as the metric's. It is a smooth
/// function of means of the rows' second and fourth moments, so the jackknife is consistent.
/// The value is the metric's (from the eigenvalues); the leave-one-out values from the trace
/// and Frobenius norm differ from the eigenvalue route by rounding only (the metric's
/// eigenvalues at the rounding level, set to 0, change Σλ by at most d²·ε·λ₁).
///
/// # Errors
///
/// Those of [`isoscore`](crate::isoscore); [`Error::TooFewSamples`](crate::Error::TooFewSamples)
/// for n < 3; [`Error::ZeroVariance`](crate::Error::ZeroVariance) when leaving a row out leaves
/// all rows equal.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Jackknife, isoscore, jackknife};
///
/// let rows: Vec<[f64; 3]> = (0..30)
///     .map(|i| { let t = i as f64; [3.0 * t.sin(), (2.0 * t).cos(), 0.5 * (0.7 * t).sin()] })
///     .collect();
/// let x = Embeddings::<f64, Image>::from_rows(&rows)?;
/// let fast = jackknife::isoscore(&x)?;
/// let brute = Jackknife::delete_one(30, |keep| isoscore(&x.select(keep)?))?;
/// assert_eq!(fast.value(), isoscore(&x)?);
/// assert!((fast.standard_error() / brute.standard_error() - 1.0).abs() < 1e-9);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// W. Rudman, N. Gillman, T. Rayne, C. Eickhoff, "IsoScore: Measuring the Uniformity of
/// Embedding Space Utilization", Findings of ACL 2022; code bcbi-edu/p_eickhoff_isoscore;
/// Efron & Stein 1981.
pub fn isoscore<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<Jackknife> {
    check::at_least(3, x.len())?;
    let value = crate::isoscore(x)?;
    let rows = Centred::of(x, Centring::Mean);
    let scatter = Products::between(&rows, &rows);
    let d = x.dim();
    // The left-out trace comes from a difference: at or below the rounding level of the whole
    // trace, the rows left are all equal (as the metric would find them).
    let noise = rounding_level(d, scatter.totals().0);
    let deviations = (0..x.len())
        .map(|i| {
            let (trace, _) = scatter.left_out_totals(i);
            check::some_variance(trace <= noise)?;
            let frobenius = scatter.left_out(i, HsicEstimator::Biased);
            Ok(of_participation(trace * trace / frobenius, d) - value)
        })
        .collect::<Result<Vec<_>>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// The jackknife of [`effective_rank`](crate::effective_rank)'s value, exactly, in
/// O(n·d²·t) after one d × d eigendecomposition (t ≈ 4 evaluations of the secular function
/// per eigenvalue).
/// With the scatter S = QΛQᵀ of the rows ỹⱼ (centred at their mean for [`Centring::Mean`]) and
/// c = n/(n − 1) centred, 1 not:
///
/// ```text
/// S₋ᵢ = S − c ỹᵢỹᵢᵀ = Q (Λ − c zᵢzᵢᵀ) Qᵀ,     zᵢ = Qᵀỹᵢ
/// λ(S₋ᵢ) = the roots μ of 1 − c Σⱼ zᵢⱼ²/(λⱼ − μ) = 0,  one in each [λₖ₊₁, λₖ]
/// ```
///
/// and erank₋ᵢ is the metric's formula on those eigenvalues, with its rank bound for n − 1 rows
/// and its rounding level (eigenvalues at or below d·ε·μ₁ are 0, and so are those at or below
/// d·ε·λ₁, the roots' own error, when leaving a row out takes most of the variance with it).
/// The effective rank is a
/// smooth function of the scatter wherever its positive eigenvalues stay away from 0, so the
/// jackknife is consistent for n > d. With fewer rows than dimensions every left-out row takes
/// a whole direction with it (the rank falls by one), and the jackknife measures that.
///
/// The eigenvalues of each S₋ᵢ carry an absolute error of about ε·λ₁, as the metric's do; the
/// deviations δᵢ are taken against the effective rank of the same Λ, so that the errors of
/// the eigendecomposition cancel. The value is the metric's.
///
/// # Errors
///
/// Those of [`effective_rank`](crate::effective_rank);
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3;
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when leaving a row out leaves no
/// variance.
///
/// # Examples
///
/// ```
/// use modality_gap::{Centring, Embeddings, Image, Jackknife, Spectrum, effective_rank, jackknife};
///
/// let rows: Vec<[f64; 3]> = (0..30)
///     .map(|i| { let t = i as f64; [3.0 * t.sin(), (2.0 * t).cos(), 0.5 * (0.7 * t).sin()] })
///     .collect();
/// let x = Embeddings::<f64, Image>::from_rows(&rows)?;
/// let (spectrum, centring) = (Spectrum::SingularValues, Centring::Mean);
/// let fast = jackknife::effective_rank(&x, spectrum, centring)?;
/// let brute = Jackknife::delete_one(30, |keep| {
///     Ok(effective_rank(&x.select(keep)?, spectrum, centring)?.value)
/// })?;
/// assert_eq!(fast.value(), effective_rank(&x, spectrum, centring)?.value);
/// assert!((fast.standard_error() / brute.standard_error() - 1.0).abs() < 1e-9);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// O. Roy, M. Vetterli, EUSIPCO 2007; Garrido et al., RankMe, ICML 2023; G. H. Golub, "Some
/// modified matrix eigenvalue problems", SIAM Review 15, 1973 (the secular equation);
/// J. R. Bunch, C. P. Nielsen, D. C. Sorensen, Numer. Math. 31, 1978.
pub fn effective_rank<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    spectrum: Spectrum,
    centring: Centring,
) -> Result<Jackknife> {
    let n = x.len();
    check::at_least(3, n)?;
    let value = crate::effective_rank(x, spectrum, centring)?.value;
    let rows = Centred::of(x, centring);
    let d = rows.dim;
    let zeros = vec![0.0; d];
    let (lambda, basis) = top_components(cross_products(&rows.rows, &rows.rows, d, &zeros), d);
    let (downdate, bound) = match centring {
        Centring::Mean => (n as f64 / (n as f64 - 1.0), (n - 2).min(d)),
        Centring::None => (1.0, (n - 1).min(d)),
    };
    let full_bound = bound + usize::from(bound < d);
    let mut full = lambda.clone();
    drop_rounding(&mut full, full_bound)?;
    let reference = rank_of_spectrum(&full, full_bound, spectrum);
    let noise = rounding_level(d, lambda[0]);
    // zᵢ = Qᵀỹᵢ for every row (blocked gemm).
    let coordinates: Vec<f64> = apply_to_rows(&rows.rows, &zeros, &basis);
    // One row per task (each is d secular solves; the results do not depend on the split).
    let deviations = (0..n)
        .into_par_iter()
        .map(|i| {
            vectorised(
                #[inline(always)]
                || {
                    let z = &coordinates[i * d..][..d];
                    let mut left_out = downdated_eigenvalues(&lambda, z, downdate);
                    // The roots carry errors of about ε·λ₁ of the full set: below its rounding
                    // level they are 0 (all of them when the rest have no variance).
                    left_out
                        .iter_mut()
                        .filter(|l| **l <= noise)
                        .for_each(|l| *l = 0.0);
                    drop_rounding(&mut left_out, bound)?;
                    Ok(rank_of_spectrum(&left_out, bound, spectrum) - reference)
                },
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}
