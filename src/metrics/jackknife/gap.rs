//! The gap distance ‖ā − b̄‖: a smooth function of two means.

use crate::reduce::per_row;
use crate::{Gap, Jackknife, Method, Modality, Result, Scalar, UnitEmbeddings, check};

/// The jackknife of the gap distance ‖Δ‖ = ‖centroid(a) − centroid(b)‖ of
/// [`gap`](crate::gap) over n image–text pairs, leaving one pair out at a time, exactly and in
/// O(n·d):
///
/// ```text
/// Δ₋ᵢ = Δ + vᵢ,   vᵢ = (Δ − (aᵢ − bᵢ)) / (n − 1)
/// ‖Δ₋ᵢ‖ − ‖Δ‖ = (2 Δ·vᵢ + ‖vᵢ‖²) / (‖Δ₋ᵢ‖ + ‖Δ‖)          (no cancellation)
/// ```
///
/// The distance is a norm of a mean, biased upwards by O(1/n) (a set with no gap in
/// expectation still has ‖Δ‖ ≈ √(trace Σ / n));
/// [`bias_corrected`](crate::Jackknife::bias_corrected) removes most of it. The sets must be
/// paired: two sets of different sizes (N images against C prompts) are two independent
/// samples, which one delete-one jackknife does not cover.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) (the sets must be paired),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, gap, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let distance = jackknife::gap(&img, &txt)?.estimate();
/// assert_eq!(distance.value, gap(&img, &txt)?.distance());
/// assert!(distance.standard_error > 1e-3 && distance.standard_error < 1e-2);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (the gap); Efron & Tibshirani, *An
/// Introduction to the Bootstrap*, 1993, ch. 11 (the jackknife of a smooth function of means).
pub fn gap<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<Jackknife> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    let gap = crate::gap(a, b)?;
    let deviations = per_row(a.len(), |i| gap_deviation((a, b), &gap, i));
    Jackknife::from_deviations(gap.distance(), deviations, Method::Jackknife)
}

/// ‖Δ₋ᵢ‖ − ‖Δ‖ for pair i of n (the formula of [`gap`]), given the gap of all n pairs.
pub(crate) fn gap_deviation<T: Scalar, A: Modality, B: Modality>(
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    gap: &Gap,
    i: usize,
) -> f64 {
    let (delta, distance) = (gap.vector(), gap.distance());
    let scale = 1.0 / (a.len() - 1) as f64;
    let (mut along, mut squared) = (0.0, 0.0);
    for ((d, x), y) in delta.iter().zip(a.row(i)).zip(b.row(i)) {
        let v = (d - (x.to_f64() - y.to_f64())) * scale;
        along += d * v;
        squared += v * v;
    }
    let change = 2.0 * along + squared;
    let sum = (distance * distance + change).max(0.0).sqrt() + distance;
    if sum > 0.0 { change / sum } else { 0.0 } // Δ₋ᵢ = Δ = 0
}
