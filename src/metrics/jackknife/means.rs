//! Metrics that are means of one value per sample: their jackknife is s/√n.

use crate::metrics::align::distance_powers;
use crate::metrics::separability::separability_and_outcomes;
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

/// The standard error of [`modality_separability`](crate::modality_separability)'s held-out
/// accuracy, given its fitted boundary: the accuracy is the mean of one outcome per held-out
/// sample (1 classified correctly, 0 not), so SE = s/√n_test = √(p(1 − p)/(n_test − 1))
/// ([`Method::MeanOverSamples`](crate::Method), dof = n_test − 1).
///
/// This is the uncertainty of the test split's estimate of the fitted classifier's accuracy,
/// the usual one for a held-out score. It leaves out the variability of the fit itself (a
/// different training sample would move the boundary), which is of a lower order for a
/// regularised linear classifier with n ≫ d and is not small for n ≈ d; with samples to spare,
/// a delete-a-group jackknife of the whole procedure (`Jackknife::delete_groups`) includes it
/// at g fits. An accuracy of 1 (separable modalities, the usual case for CLIP) has SE 0: the
/// interval is then a point, and a binomial bound (at most 3/n_test misclassified at 95 %,
/// the rule of three) says more.
///
/// # Errors
///
/// Those of [`modality_separability`](crate::modality_separability).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, jackknife, modality_separability};
///
/// let img: Vec<[f64; 2]> = (0..20).map(|i| [1.0, 0.2 * (i as f64).sin()]).collect();
/// let txt: Vec<[f64; 2]> = (0..20).map(|i| [0.2 * (i as f64).cos(), 1.0]).collect();
/// let (a, b) = (UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&img)?)?,
///               UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&txt)?)?);
/// let jk = jackknife::modality_separability(&a, &b)?;
/// assert_eq!(jk.value(), modality_separability(&a, &b)?.accuracy);
/// assert_eq!(jk.len(), 8); // samples 4, 9, 14, 19 of each set
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// abrar-fahim/contrastive-gap (`get_linear_seperability`), for the metric.
pub fn modality_separability<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<Jackknife> {
    let (_, outcomes) = separability_and_outcomes(a, b)?;
    Jackknife::of_mean(&outcomes)
}
