use super::pairing::Pairing;
use crate::{Embeddings, Modality, Result, Scalar, UnitEmbeddings, check, norm::Norm};

/// The alignment loss of Wang & Isola: the mean distance between paired embeddings, to the
/// power α.
///
/// ```text
/// L_align(α) = (1/n) Σᵢ ‖xᵢ − yᵢ‖₂^α,    α > 0,   row i of x pairs with row i of y
/// ```
///
/// Lower is better aligned; 0 iff every pair coincides. On unit rows it lies in [0, 2^α], and
/// for α = 2 it equals 2 − 2·(1/n) Σᵢ xᵢ·yᵢ. For α = 1 it is the mean paired distance that
/// Schrodi et al. call L2I (lmb-freiburg/two-effects-one-trigger, `analysis/gap_precompute.py`,
/// `compute_l2i`). The differences are taken coordinate by coordinate
/// in f64 (no cancellation through the dot product). The paper's default is α = 2. For the
/// unnormalised call of align_uniform (`align_loss(x, y)` on raw encoder output) use
/// [`raw::align_loss`](crate::raw::align_loss).
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) (the sets must be paired),
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless α is finite and > 0,
/// [`Error::Overflow`](crate::Error::Overflow) if the mean exceeds `f64::MAX` (raw rows of
/// extreme magnitude, or a huge α).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, align_loss};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let y = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [0.0, 1.0]])?)?;
/// // pair 0 is √2 apart, pair 1 coincides: (2 + 0) / 2
/// assert!((align_loss(&x, &y, 2.0)? - 1.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, "Understanding Contrastive Representation Learning through Alignment and
/// Uniformity on the Hypersphere", ICML 2020, Sec. 4.1, Eq. (2).
#[doc(alias = "L2I")]
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    x: &UnitEmbeddings<T, A>,
    y: &UnitEmbeddings<T, B>,
    alpha: f64,
) -> Result<f64> {
    align_loss_raw(x, y, alpha)
}

/// [`align_loss`] on rows as they are; see [`crate::raw::align_loss`].
pub(crate) fn align_loss_raw<T: Scalar, A: Modality, B: Modality>(
    x: &Embeddings<T, A>,
    y: &Embeddings<T, B>,
    alpha: f64,
) -> Result<f64> {
    check::paired(x.shape(), y.shape())?;
    mean_distance_power(x, y, Pairing::Rows, alpha)
}

/// The mean over the pairs of ‖x − y‖^α (shapes already checked).
pub(super) fn mean_distance_power<T: Scalar, A: Modality, B: Modality>(
    x: &Embeddings<T, A>,
    y: &Embeddings<T, B>,
    pairs: Pairing<'_>,
    alpha: f64,
) -> Result<f64> {
    let alpha = check::positive("alpha", alpha)?;
    let mean = pairs.mean(x, y, distance_power(alpha));
    check::no_overflow("the alignment loss", mean)
}

/// ‖xᵢ − yᵢ‖^α for each row pair (shapes already checked): the values whose mean is
/// [`align_loss`].
pub(super) fn distance_powers<T: Scalar, A: Modality, B: Modality>(
    x: &Embeddings<T, A>,
    y: &Embeddings<T, B>,
    alpha: f64,
) -> Result<Vec<f64>> {
    let alpha = check::positive("alpha", alpha)?;
    let values = Pairing::Rows.values(x, y, distance_power(alpha));
    check::finite_values(&values, 1, |_| {}).map_err(|_| crate::Error::Overflow {
        quantity: "the alignment loss",
    })?;
    Ok(values)
}

/// ‖a − b‖^α, the differences taken coordinate by coordinate in f64.
pub(super) fn distance_power<T: Scalar>(alpha: f64) -> impl Fn(&[T], &[T]) -> f64 + Sync {
    #[inline(always)]
    move |a, b| {
        let distance = Norm::of(|| a.iter().zip(b).map(|(p, q)| p.to_f64() - q.to_f64()));
        distance.value().powf(alpha)
    }
}
