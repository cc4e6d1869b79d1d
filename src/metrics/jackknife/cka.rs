//! Linear CKA: a ratio of HSIC estimates, each a function of d × d cross products whose
//! leave-one-out values follow from rank-one updates.

use super::products::{Centred, Products};
use crate::{
    Centring, Embeddings, HsicEstimator, Jackknife, Method, Modality, Result, Scalar, check,
};

/// The jackknife of [`cka`](crate::cka), exactly and in O(n·(d_a + d_b)²), the cost of the
/// metric. With rows centred at their means (ãᵢ, b̃ᵢ), C = Σ ãⱼb̃ⱼᵀ, pᵢ = ‖ãᵢ‖², qᵢ = ‖b̃ᵢ‖²,
/// leaving sample i out moves the mean, and with c = n/(n − 1), α = 1/(n − 1):
///
/// ```text
/// C₋ᵢ = C − c ãᵢb̃ᵢᵀ                       ‖C₋ᵢ‖²_F = ‖C‖²_F − 2c ãᵢᵀCb̃ᵢ + c² pᵢqᵢ
/// Σⱼ≠ᵢ p'ⱼ = Σⱼ pⱼ − c pᵢ
/// Σⱼ≠ᵢ p'ⱼq'ⱼ = Σⱼ pⱼqⱼ + 2α (b̃ᵢ·Σⱼpⱼb̃ⱼ + ãᵢ·Σⱼqⱼãⱼ) + α² (qᵢΣⱼpⱼ + pᵢΣⱼqⱼ)
///              + 4α² ãᵢᵀCb̃ᵢ + nα⁴ pᵢqᵢ − c⁴ pᵢqᵢ
/// ```
///
/// (p'ⱼ = ‖ãⱼ + αãᵢ‖², the squared norms about the leave-one-out mean). These give the biased
/// HSIC ‖C₋ᵢ‖²_F and the unbiased one's three terms (see [`cka`](crate::cka)) for A × B, A × A
/// and B × B, and CKA₋ᵢ their ratio, clamped as the metric's. CKA is a smooth function of
/// these means, so the jackknife is consistent; the unbiased HSIC is a U-statistic, and its
/// ratio's bias is O(1/n). The value is the metric's.
///
/// # Errors
///
/// Those of [`cka`](crate::cka); [`Error::TooFewSamples`](crate::Error::TooFewSamples) for
/// n < 3 (biased) or n < 5 (unbiased: each leave-one-out set needs 4);
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when leaving a sample out leaves a set
/// with no variance.
///
/// # Examples
///
/// ```
/// use modality_gap::{HsicEstimator, Image, Jackknife, Text, cka, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f64, Image, Text, _>(CLIP)?;
/// let (img, txt) = (img.select(&(0..100).collect::<Vec<_>>())?, txt.select(&(0..100).collect::<Vec<_>>())?);
/// let fast = jackknife::cka(&img, &txt, HsicEstimator::Unbiased)?;
/// let brute = Jackknife::delete_one(100, |k| cka(&img.select(k)?, &txt.select(k)?, HsicEstimator::Unbiased))?;
/// assert_eq!(fast.value(), cka(&img, &txt, HsicEstimator::Unbiased)?);
/// assert!((fast.standard_error() / brute.standard_error() - 1.0).abs() < 1e-9);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Kornblith et al., "Similarity of Neural Network Representations Revisited", ICML 2019;
/// Song et al., JMLR 13, 2012, Eq. 5 (the unbiased HSIC); minyoungg/platonic-rep,
/// `metrics.py`; Efron & Stein 1981.
pub fn cka<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    estimator: HsicEstimator,
) -> Result<Jackknife> {
    check::same_len(a.len(), b.len())?;
    check::at_least(
        match estimator {
            HsicEstimator::Biased => 3,
            HsicEstimator::Unbiased => 5,
        },
        a.len(),
    )?;
    let value = crate::cka(a, b, estimator)?;
    let (side_a, side_b) = (
        Centred::of(a, Centring::Mean),
        Centred::of(b, Centring::Mean),
    );
    let ab = Products::between(&side_a, &side_b);
    let aa = Products::between(&side_a, &side_a);
    let bb = Products::between(&side_b, &side_b);
    let n = a.len();
    let deviations = (0..n)
        .map(|i| {
            let hsic = |products: &Products| products.left_out(i, estimator);
            let (kl, kk, ll) = (hsic(&ab), hsic(&aa), hsic(&bb));
            check::some_variance(kk <= 0.0 || ll <= 0.0)?;
            let ratio = kl / (kk.sqrt() * ll.sqrt());
            let clamped = match estimator {
                HsicEstimator::Biased => ratio.clamp(0.0, 1.0),
                HsicEstimator::Unbiased => ratio.clamp(-1.0, 1.0),
            };
            Ok(clamped - value)
        })
        .collect::<Result<Vec<_>>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}
