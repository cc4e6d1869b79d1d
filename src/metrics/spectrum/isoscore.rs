use super::gram_spectrum;
use crate::{Centring, Embeddings, Modality, Result, Scalar, check};

/// IsoScore (Rudman et al. 2022): how uniformly a set uses the d dimensions of its space, from
/// 0 (all variance along one direction) to 1 (the same variance along every direction).
///
/// ```text
/// λ₁ ≥ … ≥ λ_d ≥ 0       the PCA variances: eigenvalues of the covariance of the rows
/// λ̂ = √d · λ / ‖λ‖₂,     δ = ‖λ̂ − 1‖₂ / √(2(d − √d))          (isotropy defect, ∈ [0, 1])
/// k = (d − δ²(d − √d))² / d²                                    (fraction of dimensions used)
/// IsoScore = (d·k − 1) / (d − 1)
///          = ((Σλ)² / Σλ² − 1) / (d − 1)                        (the same, simplified)
/// ```
///
/// The second form follows from ‖λ̂ − 1‖² = 2d − 2√d Σλ/‖λ‖: IsoScore is the participation
/// ratio (Σλ)²/Σλ² ∈ [1, d], mapped affinely onto [0, 1]. It is computed in that form (on
/// λ/λ₁, so a flat spectrum gives exactly d and the score exactly 1) and clamped to [0, 1].
/// It is invariant to rotations, translations and scalings of the rows; the scale of the
/// covariance (ddof 0 or 1) cancels.
///
/// The eigenvalues come from the centred d × d Gram matrix, accumulated in f64 by blocked
/// gemm (O(n·d²), deterministic; nothing n × n), with an absolute error of about ε·λ₁; those
/// at or below d·ε·λ₁ are taken as 0, as in [`effective_rank`](crate::effective_rank). A set
/// on a line therefore scores 0 up to rounding (≈ 2ε·d/(d − 1)), a set with equal variances
/// along d orthogonal axes exactly 1 when the eigenvalues come out equal (as they do for a
/// diagonal covariance).
///
/// The reference takes its points as the columns of a d × n array (IsoScore.py,
/// `IsoScore(points)`, README: shape (d, m) for m points), runs sklearn's `PCA` with
/// `n_components = d` (which fails for n < d) and takes `np.cov` (ddof = 1) of the scores.
/// Here the rows are the points, as everywhere in the crate, and n < d is allowed: the
/// d − (n − 1) directions the rows cannot span have variance 0.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2;
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) (named `d`) for d < 2, where
/// (d·k − 1)/(d − 1) is 0/0; [`Error::ZeroVariance`](crate::Error::ZeroVariance) when all rows
/// are equal (decided exactly on the rows) or so close that their differences square to 0;
/// [`Error::Overflow`](crate::Error::Overflow) when the covariance overflows f64 (spreads
/// beyond about 1e154).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, isoscore};
///
/// // ±e₁, ±e₂, ±e₃: the same variance along every axis.
/// let ball = Embeddings::<f64, Image>::from_rows(&[
///     [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0],
///     [0.0, 1.0, 0.0], [0.0, -1.0, 0.0],
///     [0.0, 0.0, 1.0], [0.0, 0.0, -1.0],
/// ])?;
/// assert_eq!(isoscore(&ball)?, 1.0);
/// // Points on a line in 3-D.
/// let line = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [-1.0, -2.0, -3.0]])?;
/// assert!(isoscore(&line)? < 1e-14);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// W. Rudman, N. Gillman, T. Rayne, C. Eickhoff, "IsoScore: Measuring the Uniformity of
/// Embedding Space Utilization", Findings of ACL 2022, Algorithm 1. Code:
/// bcbi-edu/p_eickhoff_isoscore, `IsoScore.py`.
pub fn isoscore<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<f64> {
    check::at_least(2, x.len())?;
    let d = isoscore_dimension(x.dim())?;
    let (variances, _) = gram_spectrum(x, Centring::Mean)?;
    Ok(isoscore_of(&variances, d))
}

/// The dimension d, which IsoScore needs to be at least 2.
pub(crate) fn isoscore_dimension(d: usize) -> Result<usize> {
    check::count_within(
        "d",
        d,
        2,
        usize::MAX,
        "at least 2 (IsoScore compares the variances of d ≥ 2 directions)",
    )
}

/// IsoScore of the centred variances λ₁ ≥ … ≥ λ_d (λ₁ > 0) of d dimensions.
pub(crate) fn isoscore_of(variances: &[f64], d: usize) -> f64 {
    let largest = variances[0];
    let (sum, squares) = variances.iter().fold((0.0, 0.0), |(s, q), &l| {
        let r = l / largest;
        (s + r, q + r * r)
    });
    of_participation(sum * sum / squares, d)
}

/// IsoScore from the participation ratio (Σλ)²/Σλ² of d dimensions, clamped to [0, 1].
pub(crate) fn of_participation(participation: f64, d: usize) -> f64 {
    ((participation - 1.0) / (d - 1) as f64).clamp(0.0, 1.0)
}
