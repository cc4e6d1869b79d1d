use crate::{Modality, Result, Scalar, UnitEmbeddings, check, reduce::row_sum_and_squared_norms};

/// Whether a mean over the pairs (i, j) of one set counts the diagonal i = j.
///
/// Used by [`mean_pairwise_cosine`]; the default is [`Excluded`](Diagonal::Excluded).
///
/// # Examples
///
/// ```
/// use modality_gap::{Diagonal, Embeddings, Image, UnitEmbeddings, mean_pairwise_cosine};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// assert_eq!(Diagonal::default(), Diagonal::Excluded);
/// assert_eq!(mean_pairwise_cosine(&x, Diagonal::Excluded)?, 0.0); // u₀·u₁ = 0
/// assert_eq!(mean_pairwise_cosine(&x, Diagonal::Included)?, 0.5); // (1 + 0 + 0 + 1) / 4
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2 (the cone effect).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Diagonal {
    /// Only i ≠ j: the mean over the n(n−1) ordered pairs, which equals the mean over the
    /// n(n−1)/2 unordered ones. The cone effect as Liang et al. measure it on real features
    /// (Fig. 2a).
    #[default]
    Excluded,
    /// All n² pairs, the diagonal of ones included: the statistic of the random-MLP notebooks
    /// (Fig. 2b), which tends to 1/n rather than 0 for isotropic data. (Those notebooks also
    /// add 1e-16 to each norm, a relative change of 1e-16 on nonzero rows; a zero row is an
    /// error here.)
    Included,
}

/// The cone effect: the mean cosine similarity between embeddings of one modality.
///
/// ```text
/// Excluded (default):  (1 / (n(n−1))) Σ_{i≠j} uᵢ·uⱼ = (‖Σᵢ uᵢ‖² − Σᵢ ‖uᵢ‖²) / (n(n−1))
/// Included:            (1 / n²) Σ_{i,j} uᵢ·uⱼ      =  ‖Σᵢ uᵢ‖² / n²
/// ```
///
/// A similarity, not a distance: 1 means all rows coincide, values near 0 a spread-out set,
/// and with the diagonal excluded the minimum is −1/(n−1). The result is clamped to [−1, 1]
/// (rounding of the stored rows can otherwise carry identical rows an ulp past 1). Computed exactly in O(n·d) from the
/// sum vector, accumulated in f64; no n × n matrix is formed. (Σᵢ ‖uᵢ‖² is n up to the
/// rounding of the stored rows; the identity above uses the stored values, so it equals the
/// O(n²) definition on exactly the data given.)
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 with the diagonal excluded
/// (no pairs; numpy's `mean` of an empty array gives `NaN`).
///
/// # Examples
///
/// ```
/// use modality_gap::{Diagonal, Embeddings, Image, UnitEmbeddings, mean_pairwise_cosine};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [-1.0, 0.0]])?)?;
/// assert_eq!(mean_pairwise_cosine(&x, Diagonal::Excluded)?, -1.0);
/// assert_eq!(mean_pairwise_cosine(&x, Diagonal::Included)?, 0.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2 (the cone effect).
pub fn mean_pairwise_cosine<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    diagonal: Diagonal,
) -> Result<f64> {
    let (sum, squared_norms) = row_sum_and_squared_norms(x);
    cone_from_sums(x.len(), &sum, squared_norms, diagonal)
}

/// [`mean_pairwise_cosine`] of n unit rows from their row sum and their sum of squared norms.
pub(crate) fn cone_from_sums(
    n: usize,
    sum: &[f64],
    squared_norms: f64,
    diagonal: Diagonal,
) -> Result<f64> {
    let all_pairs: f64 = sum.iter().map(|s| s * s).sum();
    let count = n as f64;
    let mean = match diagonal {
        Diagonal::Included => all_pairs / (count * count),
        Diagonal::Excluded => {
            check::at_least(2, n)?;
            (all_pairs - squared_norms) / (count * (count - 1.0))
        }
    };
    // Rounding of the stored unit rows can carry a mean of identical rows an ulp past 1.
    Ok(mean.clamp(-1.0, 1.0))
}
