//! Metrics that are means of one value per sample: their jackknife is s/√n.

use crate::metrics::align::distance_powers;
use crate::{Jackknife, Modality, Result, Scalar, UnitEmbeddings, check};

/// The jackknife of [`align_loss`](crate::align_loss): the mean of ‖xᵢ − yᵢ‖^α over the pairs,
/// with SE = s/√n over the n per-pair values ([`Method::MeanOverSamples`](crate::Method)).
///
/// # Errors
///
/// Those of [`align_loss`](crate::align_loss), and
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, align_loss, jackknife};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])?)?;
/// let y = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [0.0, 1.0], [1.0, 1.0]])?)?;
/// let jk = jackknife::align_loss(&x, &y, 2.0)?;
/// assert_eq!(jk.value(), align_loss(&x, &y, 2.0)?);
/// // The per-pair values are 2, 0, 0: s = √(4/3), SE = s/√3 = 2/3.
/// assert!((jk.estimate().standard_error - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Eq. (2), for the metric.
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    x: &UnitEmbeddings<T, A>,
    y: &UnitEmbeddings<T, B>,
    alpha: f64,
) -> Result<Jackknife> {
    check::paired(x.shape(), y.shape())?;
    check::at_least(2, x.len())?;
    Jackknife::of_mean(&distance_powers(x, y, alpha)?)
}
