//! The COCO metrics of [`Captioned`](crate::Captioned), whose unit is an image with all its
//! captions: the jackknife leaves one image and its captions out at a time.

use super::cone::WithinSums;
use crate::metrics::align::distance_power;
use crate::metrics::pairing::Pairing;
use crate::reduce::dot;
use crate::{Captioned, Jackknife, Method, Modality, RelativeGap, Result, Scalar, check};

/// The jackknife of [`Captioned::align_loss`](crate::Captioned::align_loss) over the n images,
/// each left out with its captions, exactly and in O(m·d): with vⱼ = ‖a_{gⱼ} − bⱼ‖^α, sᵢ the
/// sum of image i's mᵢ values and θ = (Σⱼ vⱼ)/m,
///
/// ```text
/// θ₋ᵢ − θ = (θ·mᵢ − sᵢ) / (m − mᵢ)
/// ```
///
/// (a ratio of two sums over images, whose jackknife is consistent; images with more captions
/// weigh more, as in the metric). The value is the metric's.
///
/// # Errors
///
/// Those of the metric, and [`Error::TooFewSamples`](crate::Error::TooFewSamples) for fewer
/// than 2 images.
///
/// # Examples
///
/// ```
/// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings, jackknife};
///
/// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])?)?;
/// let coco = Captioned::new(images, captions, vec![0, 0, 1])?;
/// let jk = jackknife::captioned::align_loss(&coco, 2.0)?;
/// // Caption values 0, 2, 0 (mean 2/3); without image 0: 0, without image 1: 1.
/// assert_eq!(jk.value(), coco.align_loss(2.0)?);
/// assert!((jk.deviations()[0] + 2.0 / 3.0).abs() < 1e-15 && (jk.deviations()[1] - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Eq. (2) (the metric); Efron & Tibshirani 1993, ch. 11 (the
/// jackknife of a ratio).
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    coco: &Captioned<T, A, B>,
    alpha: f64,
) -> Result<Jackknife> {
    check::at_least(2, coco.images().len())?;
    let value = coco.align_loss(alpha)?;
    let pairs = Pairing::Groups(coco.image_of());
    let values = pairs.values(coco.images(), coco.captions(), distance_power(alpha));
    let (sums, counts) = by_image(coco, &values);
    let m = values.len() as f64;
    let deviations = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| (value * c - s) / (m - c))
        .collect();
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// The jackknife of [`Captioned::relative_gap`](crate::Captioned::relative_gap)'s value over
/// the n images, each left out with its captions, exactly and in O(m·d). The three parts of
/// each leave-one-image-out set come from per-row sums: the matched mean as a ratio (as
/// [`align_loss`]), the image term as [`mean_pairwise_cosine`](super::mean_pairwise_cosine),
/// and the caption term without a whole group G of captions from
///
/// ```text
/// T₋G = T − 2 Σ_{j∈G} rⱼ + ‖Σ_{j∈G} uⱼ‖² − Σ_{j∈G} ‖uⱼ‖²,   rⱼ = uⱼ·Σₖuₖ − ‖uⱼ‖²
/// ```
///
/// over (m − |G|)(m − |G| − 1) ordered pairs; then the RMG formula, floor included.
///
/// # Errors
///
/// Those of the metric, and [`Error::TooFewSamples`](crate::Error::TooFewSamples) for fewer
/// than 3 images, or when leaving an image out leaves fewer than 2 captions.
///
/// # Examples
///
/// ```
/// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings, jackknife};
///
/// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])?)?;
/// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[
///     [1.0, 0.2], [0.9, 0.0], [0.0, 1.0], [0.1, 1.0], [1.0, 0.8],
/// ])?)?;
/// let coco = Captioned::new(images, captions, vec![0, 0, 1, 1, 2])?;
/// let jk = jackknife::captioned::relative_gap(&coco)?;
/// assert_eq!(jk.value(), coco.relative_gap()?.value);
/// assert_eq!(jk.len(), 3); // one deviation per image
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Schrodi et al., "Two Effects, One Trigger", ICLR 2025 (RMG and its COCO convention);
/// lmb-freiburg/two-effects-one-trigger, `analysis/gap_precompute.py`, `compute_rmg`.
pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
    coco: &Captioned<T, A, B>,
) -> Result<Jackknife> {
    let (images, captions, image_of) = (coco.images(), coco.captions(), coco.image_of());
    check::at_least(3, images.len())?;
    let value = coco.relative_gap()?.value;
    let matched = Pairing::Groups(image_of).values(images, captions, dot);
    let (matched_sums, counts) = by_image(coco, &matched);
    let matched_total: f64 = matched.iter().sum();
    let within_images = WithinSums::new(images);
    // The caption term: the sums rⱼ, and per image Σ rⱼ, Σ uⱼ and Σ ‖uⱼ‖² over its captions.
    let within_captions = WithinSums::new(captions);
    let (m, total) = (captions.len() as f64, within_captions.total());
    let d = captions.dim();
    let mut groups = vec![(0.0, vec![0.0; d], 0.0); images.len()];
    for (j, &i) in image_of.iter().enumerate() {
        let u = captions.row(j);
        let norm = dot(u, u);
        let group = &mut groups[i];
        group.0 += within_captions.row(j);
        group
            .1
            .iter_mut()
            .zip(u)
            .for_each(|(g, v)| *g += v.to_f64());
        group.2 += norm;
    }
    let deviations = (0..images.len())
        .map(|i| {
            let kept = m - counts[i];
            check::at_least(2, kept as usize)?;
            let (r, group_sum, norms) = &groups[i];
            let captions_left =
                (total - 2.0 * r + dot(group_sum, group_sum) - norms) / (kept * (kept - 1.0));
            let rmg = RelativeGap::from_cosines(
                (matched_total - matched_sums[i]) / kept,
                within_images.mean() + within_images.deviation(i),
                captions_left,
            );
            Ok(rmg.value - value)
        })
        .collect::<Result<Vec<_>>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// Per image, the sum of `values` (one per caption) over its captions, and its number of
/// captions.
fn by_image<T: Scalar, A: Modality, B: Modality>(
    coco: &Captioned<T, A, B>,
    values: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let n = coco.images().len();
    let (mut sums, mut counts) = (vec![0.0; n], vec![0.0; n]);
    for (&i, v) in coco.image_of().iter().zip(values) {
        sums[i] += v;
        counts[i] += 1.0;
    }
    (sums, counts)
}
