//! Uniformity and cross-modal uniformity: logs of U-statistics over pairs, whose leave-one-out
//! values come from each sample's sum of potentials, gathered by the same kernel pass.

use crate::metrics::uniform::Potential;
use crate::{Jackknife, Method, Modality, Result, Scalar, UnitEmbeddings, check};

/// The jackknife of [`uniform_loss`](crate::uniform_loss), from the same pass of the pairwise
/// kernel: with kᵢⱼ = exp(−t‖xᵢ − xⱼ‖²), S = Σ_{i<j} kᵢⱼ over the N = n(n−1)/2 pairs and
/// rᵢ = Σ_{j≠i} kᵢⱼ (so Σᵢ rᵢ = 2S, r̄ = 2S/n),
///
/// ```text
/// θ = log(S/N),   θ₋ᵢ = log((S − rᵢ)/N₋ᵢ),   N₋ᵢ = (n−1)(n−2)/2
/// θ₋ᵢ − θ = log1p( (r̄ − rᵢ)/S · n/(n − 2) )
/// ```
///
/// The kernel adds each pair's potential to both of its samples while it sums them (a few
/// percent more time, and n sums per running task, then added over the tasks in a fixed
/// binary tree: O((threads + log tasks) · n) memory), and computes (rᵢ − r̄)/S from the sums of
/// expm1 when the mean potential is above ½, so a tight cone keeps its digits. The mean
/// potential is a U-statistic; its log is smooth, so the jackknife is consistent, with the
/// O(1/n) bias of a log that [`bias_corrected`](crate::Jackknife::bias_corrected) removes.
/// The value is the metric's, to the bit.
///
/// # Errors
///
/// Those of [`uniform_loss`](crate::uniform_loss), and
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3;
/// [`Error::Overflow`](crate::Error::Overflow) if leaving a sample out leaves only
/// potentials that underflow.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, jackknife, npy, uniform_loss};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, _) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let img = UnitEmbeddings::normalize(img)?;
/// let u = jackknife::uniform_loss(&img, 2.0)?.estimate();
/// assert_eq!(u.value, uniform_loss(&img, 2.0)?);
/// assert!(u.standard_error > 1e-3 && u.standard_error < 1e-1);
/// let ci = u.interval(0.95)?;
/// assert!(ci.lower < u.value && u.value < ci.upper);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Eq. (3), for the metric; Hoeffding 1948 (U-statistics); Efron &
/// Stein 1981 (the jackknife of a U-statistic and of smooth functions of it).
pub fn uniform_loss<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>, t: f64) -> Result<Jackknife> {
    jackknife_of(Potential::within(x, t)?)
}

/// The jackknife of [`cross_modal_uniformity`](crate::cross_modal_uniformity) over the n
/// pairs, from the same pass of the pairwise kernel: leaving pair i out removes row i of A and
/// row i of B, so rᵢ sums the potentials of the 2(n − 1) unmatched pairs (i, j) and (j, i),
/// and with S the sum over the N = n(n − 1) pairs i ≠ j,
///
/// ```text
/// θ₋ᵢ − θ = log1p( (r̄ − rᵢ)/S · n/(n − 2) ),   r̄ = 2S/n,   N₋ᵢ = (n−1)(n−2)
/// ```
///
/// as for [`uniform_loss`] (see there for the precision and the bias).
///
/// # Errors
///
/// Those of [`cross_modal_uniformity`](crate::cross_modal_uniformity), and
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, cross_modal_uniformity, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let u = jackknife::cross_modal_uniformity(&img, &txt, 2.0)?.estimate();
/// assert_eq!(u.value, cross_modal_uniformity(&img, &txt, 2.0)?);
/// assert!(u.standard_error > 1e-4 && u.standard_error < 1e-1);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Fahim, Murphy & Fyshe, "It's Not a Modality Gap", 2024 (the metric); Efron & Stein 1981.
pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    t: f64,
) -> Result<Jackknife> {
    jackknife_of(Potential::between(a, b, t)?)
}

/// θ₋ᵢ − θ = log1p(−shareᵢ · n/(n − 2)) from the kernel's shares (rᵢ − r̄)/S.
fn jackknife_of(potential: Potential<'_>) -> Result<Jackknife> {
    check::at_least(3, potential.len())?;
    let (value, shares) = potential.log_mean_and_shares()?;
    from_shares(value, &shares)
}

/// The jackknife of a uniformity of value `value` from each sample's share (rᵢ − r̄)/S
/// (n ≥ 3 of them).
pub(crate) fn from_shares(value: f64, shares: &[f64]) -> Result<Jackknife> {
    let n = shares.len() as f64;
    let deviations = shares
        .iter()
        .map(|share| {
            check::no_overflow(
                "the log of a leave-one-out mean potential",
                (-share * n / (n - 2.0)).ln_1p(),
            )
        })
        .collect::<Result<_>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}
