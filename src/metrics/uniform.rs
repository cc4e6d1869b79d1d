use crate::{
    Embeddings, Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, Sets},
    reduce::{max_abs_deviation, mean_row},
};

/// The uniformity loss of Wang & Isola: the log of the mean Gaussian potential over all
/// unordered pairs of one set.
///
/// ```text
/// L_uniform(t) = log( (2 / (n(n−1))) Σ_{i<j} exp(−t ‖xᵢ − xⱼ‖₂²) ),    t > 0, n ≥ 2
/// ```
///
/// Lower is more uniform. On unit rows −4t ≤ L_uniform ≤ 0, with 0 iff all rows coincide. The
/// pairs are i < j as in `torch.pdist` (no diagonal, no duplicates). The paper's default is
/// t = 2.
///
/// Computed as a log-sum-exp with f64 partial sums, so it stays finite where the literal
/// `pdist(x).pow(2).mul(-t).exp().mean().log()` underflows to −∞ (every t·d² above about 745
/// in f64, 103 in f32). Squared distances come from the Gram identity
/// ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ on rows centred at their mean (distances are translation-invariant,
/// and centring keeps tight clusters free of cancellation), with the dot products from the
/// pairwise kernel in the input precision and everything after them in f64; identical rows
/// give exactly 0. O(n²·d) time over the n(n−1)/2 pairs only, no n × n matrix. For the
/// unnormalised call of align_uniform use
/// [`raw::uniform_loss`](crate::raw::uniform_loss).
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (no pairs; `torch.pdist` gives
/// `NaN`), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless t is finite
/// and > 0, [`Error::Overflow`](crate::Error::Overflow) for raw rows of extreme magnitude or
/// a t so large that t·d² overflows.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, uniform_loss};
///
/// // Two orthogonal unit vectors are √2 apart: log exp(−2·2) = −4.
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// assert!((uniform_loss(&x, 2.0)? + 4.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, "Understanding Contrastive Representation Learning through Alignment and
/// Uniformity on the Hypersphere", ICML 2020, Sec. 4.1, Eq. (3).
pub fn uniform_loss<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>, t: f64) -> Result<f64> {
    uniform_loss_raw(x, t)
}

/// [`uniform_loss`] on rows as they are; see [`crate::raw::uniform_loss`].
pub(crate) fn uniform_loss_raw<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    t: f64,
) -> Result<f64> {
    check::at_least(2, x.len())?;
    let t = check::positive("t", t)?;
    // Distances do not change under translation. Centring first shrinks the norms in the Gram
    // identity to the spread of the set, so a narrow cone loses no digits to cancellation; a
    // power-of-two scale (exact) brings the spread near 1, so no magnitude over- or
    // underflows in the kernel's precision.
    let mean = mean_row(x);
    let spread = max_abs_deviation(x, &mean);
    if spread == 0.0 {
        return Ok(0.0); // every pair coincides: log mean exp(0)
    }
    let scale = power_of_two_near(spread.recip());
    let log_mean =
        kernel::gaussian_log_mean(Sets::one(x.as_slice(), x.dim()), true, &mean, scale, t);
    check::no_overflow("the uniformity loss", log_mean)
}

/// 2ᵉ with e the integer nearest log₂ `value`, within f64's normal range.
fn power_of_two_near(value: f64) -> f64 {
    2f64.powi(value.log2().round().clamp(-1022.0, 1023.0) as i32)
}
