use super::{at_least, positive};
use crate::{
    Embeddings, Modality, Result, Scalar, UnitEmbeddings,
    kernel::{Columns, dot, map_rows},
    logsumexp::LogSumExp,
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
/// in f64, 103 in f32). Squared distances come from the f64 Gram identity
/// ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ, clamped at 0; identical rows give exactly 0. O(n²·d) time, no
/// n × n matrix. For the peers' unnormalised call use
/// [`raw::uniform_loss`](crate::raw::uniform_loss).
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (no pairs; the peers give
/// `NaN`), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless t is finite
/// and > 0.
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
    at_least(x, 2)?;
    let t = positive("t", t)?;
    let squared_norms: Vec<f64> = x.rows().map(|r| dot(r, r)).collect();
    let per_row = map_rows(
        x.as_slice(),
        x.as_slice(),
        x.dim(),
        Columns::AfterDiagonal,
        |i, dots| {
            let exponents: Vec<f64> = dots
                .iter()
                .zip(&squared_norms[i + 1..])
                .map(|(&xy, &yy)| -t * (squared_norms[i] + yy - 2.0 * xy).max(0.0))
                .collect();
            LogSumExp::of(&exponents)
        },
    );
    let total = per_row.into_iter().fold(LogSumExp::EMPTY, LogSumExp::merge);
    let n = x.len() as f64;
    Ok(total.value() - (n * (n - 1.0) / 2.0).ln())
}
