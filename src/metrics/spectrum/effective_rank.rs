use super::gram_spectrum;
use crate::{Centring, Embeddings, Modality, Result, Scalar};

/// Which spectrum an [`effective_rank`] takes the entropy of.
///
/// # Examples
///
/// ```
/// use modality_gap::{Centring, Embeddings, Image, Spectrum, effective_rank};
///
/// // Singular values 2 and 1: p = (2/3, 1/3) from σ, (4/5, 1/5) from σ².
/// let x = Embeddings::<f64, Image>::from_rows(&[[2.0, 0.0], [0.0, 1.0]])?;
/// let from_sigma = effective_rank(&x, Spectrum::SingularValues, Centring::None)?.value;
/// let from_variance = effective_rank(&x, Spectrum::Variances, Centring::None)?.value;
/// assert!(from_variance < from_sigma); // squaring sharpens the spectrum
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Roy & Vetterli 2007 and Garrido et al. 2023 (RankMe) weigh by σ; the variance form is the
/// entropy of the PCA explained-variance ratios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spectrum {
    /// pⱼ ∝ σⱼ, the singular values of the (centred) n × d matrix: Roy & Vetterli's effective
    /// rank and RankMe.
    SingularValues,
    /// pⱼ ∝ σⱼ², the variances along the principal directions (the explained-variance ratios
    /// when centred).
    Variances,
}

/// An effective rank and the largest value it can take. Built by [`effective_rank`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Centring, Embeddings, Image, Spectrum, effective_rank};
///
/// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])?;
/// let erank = effective_rank(&x, Spectrum::SingularValues, Centring::None)?;
/// assert_eq!((erank.value, erank.bound), (2.0, 2)); // two equal singular values; n = 2 < d
/// assert_eq!(erank.normalised(), 1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectiveRank {
    /// exp(−Σ pⱼ ln pⱼ), in [1, `bound`].
    pub value: f64,
    /// The largest rank the rows can have: min(n − 1, d) when centred, min(n, d) when not.
    pub bound: usize,
}

impl EffectiveRank {
    /// `value / bound`, in (0, 1]: 1 when the spectrum is flat over all `bound` directions.
    ///
    /// Normalising by d (as some code does) understates the spread of a set with fewer
    /// samples than dimensions; a centred set of n rows has rank at most n − 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Centring, Embeddings, Image, Spectrum, effective_rank};
    ///
    /// // Two rows in 3-D, centred: one direction (the difference), rank bound min(1, 3) = 1.
    /// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]])?;
    /// let erank = effective_rank(&x, Spectrum::Variances, Centring::Mean)?;
    /// assert_eq!((erank.value, erank.bound, erank.normalised()), (1.0, 1, 1.0));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn normalised(&self) -> f64 {
        self.value / self.bound as f64
    }
}

/// The effective rank of a set (Roy & Vetterli 2007; RankMe, Garrido et al. 2023): the
/// exponential of the Shannon entropy of its normalised spectrum.
///
/// ```text
/// X = rows − 1cᵀ            (c = mean row for Centring::Mean, 0 for Centring::None)
/// XᵀX = V diag(λ) Vᵀ,  σⱼ = √λⱼ            (the singular values of X)
/// wⱼ = σⱼ (Spectrum::SingularValues)  or  σⱼ² (Spectrum::Variances)
/// pⱼ = wⱼ / Σₖ wₖ,     erank = exp(−Σ_{pⱼ > 0} pⱼ ln pⱼ)   ∈ [1, bound]
/// bound = min(n − 1, d) centred,  min(n, d) not
/// ```
///
/// erank is 1 when one direction holds everything and equals the bound when every direction
/// the rows can span carries the same weight. It does not change when the rows are scaled or
/// rotated.
///
/// Computed from the d × d Gram matrix XᵀX, accumulated in f64 by blocked gemm (O(n·d²),
/// deterministic; nothing n × n), and its symmetric eigenvalues (O(d³)).
///
/// Accuracy: the eigenvalues carry an absolute error of about ε·λ₁ = ε·σ₁² (ε = 2.2e-16), so
/// σⱼ is accurate to about ε·σ₁²/(2σⱼ) absolutely, and a singular value below about
/// √ε·σ₁ ≈ 1.5e-8·σ₁ cannot be told from rounding (an SVD of X resolves σ down to ε·σ₁).
/// Eigenvalues at or below d·ε·λ₁ (σ ≤ √(d·ε)·σ₁, 3.4e-7·σ₁ at d = 512) are therefore taken
/// as 0, as are the d − bound that are 0 in exact arithmetic. Rank-deficient rows (a repeated
/// row, n < d) then give the SVD's value: on the CLASP texts (99 rows, 98 distinct) the
/// rounding left in would have moved the σ-weighted erank by 2.2e-6. A genuine σ below the
/// level is lost: with [`Spectrum::SingularValues`] each would have added at most −p ln p,
/// p = √(d·ε)·σ₁/Σσ (below 6e-6 at d = 512); with [`Spectrum::Variances`], p ∝ λ, at most
/// about d·ε·ln(1/(d·ε)) ≈ 3e-12. Measured against an SVD: within 1.4e-14 relative on the
/// oracle's cases and the embedded CLASP and CLIP features, 1.1e-11 on the other published
/// features, except the ConVIRT images, whose many singular values below the level move the
/// σ-weighted value by 8.9e-6 (the σ²-weighted one by 9.2e-12).
///
/// RankMe (`pₖ = σₖ/‖σ‖₁ + ε` with ε = 1e-7, Garrido et al. 2023, Eq. 2) adds 1e-7 to every
/// pⱼ, so that zero singular values contribute −1e-7·ln 1e-7 ≈ 1.6e-6 each and its value can
/// exceed the rank; this function takes 0·ln 0 = 0 and returns the definition's value.
/// Normalise by the bound, not by d ([`EffectiveRank::normalised`]; MONAI#8996 is that
/// question).
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 with
/// [`Centring::Mean`]; [`Error::ZeroVariance`](crate::Error::ZeroVariance) when every row is
/// the centre (all rows zero, or, centred, all equal), or when every entry is so small (below
/// about 1e-154) that its square underflows; [`Error::Overflow`](crate::Error::Overflow) when
/// the Gram matrix overflows f64 (entries beyond about 1e154).
///
/// # Examples
///
/// ```
/// use modality_gap::{Centring, Embeddings, Image, Spectrum, effective_rank};
///
/// // Singular values 3 and 1 (orthogonal rows): p = (3/4, 1/4).
/// let x = Embeddings::<f64, Image>::from_rows(&[[3.0, 0.0], [0.0, 1.0]])?;
/// let erank = effective_rank(&x, Spectrum::SingularValues, Centring::None)?;
/// let expected = (-(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln())).exp();
/// assert!((erank.value - expected).abs() < 1e-15);
/// assert_eq!(erank.bound, 2);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// O. Roy, M. Vetterli, "The effective rank: a measure of effective dimensionality", EUSIPCO
/// 2007. Q. Garrido, R. Balestriero, L. Najman, Y. LeCun, "RankMe: Assessing the downstream
/// performance of pretrained self-supervised representations by their rank", ICML 2023, Eq. 2
/// (its ε = 1e-7).
pub fn effective_rank<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    spectrum: Spectrum,
    centring: Centring,
) -> Result<EffectiveRank> {
    let (variances, bound) = gram_spectrum(x, centring)?;
    Ok(EffectiveRank {
        value: rank_of_spectrum(&variances, bound, spectrum),
        bound,
    })
}

/// exp of the entropy of the weights of `variances` (λ, decreasing, 0 past `bound`), in
/// [1, bound].
pub(crate) fn rank_of_spectrum(variances: &[f64], bound: usize, spectrum: Spectrum) -> f64 {
    let weight = |l: f64| match spectrum {
        Spectrum::SingularValues => l.sqrt(),
        Spectrum::Variances => l,
    };
    let total: f64 = variances.iter().map(|&l| weight(l)).sum();
    let entropy: f64 = variances
        .iter()
        .filter(|&&l| l > 0.0)
        .map(|&l| {
            let p = weight(l) / total;
            -p * p.ln()
        })
        .sum();
    // The entropy of at most `bound` positive weights lies in [0, ln bound]; exp can round past.
    entropy.exp().clamp(1.0, bound as f64)
}
