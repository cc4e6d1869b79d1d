//! The COCO metrics of [`Captioned`](crate::Captioned), whose unit is an image with all its
//! captions: the jackknife leaves one image and its captions out at a time.

use super::RecallJackknife;
use super::cone::WithinSums;
use crate::metrics::align::distance_power;
use crate::metrics::pairing::Pairing;
use crate::reduce::dot;
use crate::{
    Captioned, Jackknife, Method, Modality, RelativeGap, Result, Scalar, Temperature, check,
};

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

/// The delete-a-group jackknife of [`Captioned::retrieval_recall`](crate::Captioned::retrieval_recall)
/// in both directions: the images are dealt into g seeded groups
/// ([`Jackknife::seeded_groups`]), and Recall@K is recomputed without each group's images and
/// all their captions ([`Captioned::select`]); g + 1 passes of the metric, both directions from
/// each ([`Method::GroupedJackknife`], dof = g − 1).
///
/// The COCO protocol's ranks depend on the other images and captions (a caption's rank counts
/// the images above its own; an image's, the captions of other images above its best one),
/// and the exact delete-one flips of [`jackknife::retrieval_recall`](super::retrieval_recall)
/// have no one-pass form with several positives per query; leaving groups of images out
/// measures the same dependence, at g passes instead of n. The same (`groups`, `seed`) gives
/// the same groups, so two models on the same data pair ([`Jackknife::difference`]).
///
/// # Errors
///
/// Those of the metric (K ≥ 1), [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// unless 2 ≤ `groups` ≤ n (the number of images).
///
/// # Examples
///
/// ```
/// use modality_gap::{Captioned, Embeddings, Image, Method, Text, UnitEmbeddings, jackknife};
///
/// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(
///     &(0..20).map(|i| { let t = i as f64; [t.sin(), t.cos(), 0.5] }).collect::<Vec<_>>(),
/// )?)?;
/// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(
///     &(0..40).map(|j| { let t = (j / 2) as f64 + 0.3 * (j % 2) as f64; [t.sin(), t.cos(), 0.6] }).collect::<Vec<_>>(),
/// )?)?;
/// let coco = Captioned::new(images, captions, (0..40).map(|j| j / 2).collect())?;
/// let r1 = jackknife::captioned::retrieval_recall(&coco, 1, 5, 3)?;
/// assert_eq!(r1.a_to_b.value(), coco.retrieval_recall(1)?.a_to_b);
/// assert_eq!((r1.b_to_a.len(), r1.b_to_a.estimate().method), (5, Method::GroupedJackknife));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Karpathy & Fei-Fei, CVPR 2015 (the 5k split and its protocol); Efron & Tibshirani 1993,
/// ch. 11.5 (the delete-d jackknife).
pub fn retrieval_recall<T: Scalar, A: Modality, B: Modality>(
    coco: &Captioned<T, A, B>,
    k: usize,
    groups: usize,
    seed: u64,
) -> Result<RecallJackknife> {
    let [a_to_b, b_to_a] = by_image_groups(coco, groups, seed, |part| {
        let recall = part.retrieval_recall(k)?;
        Ok([recall.a_to_b, recall.b_to_a])
    })?;
    Ok(RecallJackknife { a_to_b, b_to_a })
}

/// The delete-a-group jackknife of the symmetric loss of
/// [`Captioned::contrastive_loss`](crate::Captioned::contrastive_loss) (several positives per
/// image), over g seeded groups of images, each left out with its captions, as
/// [`retrieval_recall`] does it: g + 1 passes of the metric.
///
/// Each log-sum-exp depends on every image and caption; with one positive per query the
/// exact delete-one values follow from a second pass
/// ([`jackknife::contrastive_loss`](super::contrastive_loss)), with several the groups of
/// images stand in for it.
///
/// # Errors
///
/// Those of the metric, and [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless
/// 2 ≤ `groups` ≤ n.
///
/// # Examples
///
/// ```
/// use modality_gap::{Captioned, Embeddings, Image, Temperature, Text, UnitEmbeddings, jackknife};
///
/// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(
///     &(0..20).map(|i| { let t = i as f64; [t.sin(), t.cos(), 0.5] }).collect::<Vec<_>>(),
/// )?)?;
/// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(
///     &(0..40).map(|j| { let t = (j / 2) as f64 + 0.3 * (j % 2) as f64; [t.sin(), t.cos(), 0.6] }).collect::<Vec<_>>(),
/// )?)?;
/// let coco = Captioned::new(images, captions, (0..40).map(|j| j / 2).collect())?;
/// let tau = Temperature::new(0.1)?;
/// let loss = jackknife::captioned::contrastive_loss(&coco, tau, 5, 3)?;
/// assert_eq!(loss.value(), coco.contrastive_loss(tau)?.symmetric);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "CLIP", ICML 2021; Khosla et al., "Supervised Contrastive Learning",
/// NeurIPS 2020 (L_out); Efron & Tibshirani 1993, ch. 11.5.
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    coco: &Captioned<T, A, B>,
    temperature: Temperature,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    let [loss] = by_image_groups(coco, groups, seed, |part| {
        Ok([part.contrastive_loss(temperature)?.symmetric])
    })?;
    Ok(loss)
}

/// K metrics of the images and their captions, without each of g seeded groups of images.
fn by_image_groups<T: Scalar, A: Modality, B: Modality, const K: usize>(
    coco: &Captioned<T, A, B>,
    groups: usize,
    seed: u64,
    metric: impl Fn(&Captioned<T, A, B>) -> Result<[f64; K]> + Sync,
) -> Result<[Jackknife; K]> {
    let labels = Jackknife::seeded_groups(coco.images().len(), groups, seed)?;
    Jackknife::by_groups_of(
        &labels,
        groups,
        |keep| {
            if keep.len() == coco.images().len() {
                metric(coco)
            } else {
                metric(&coco.select(keep)?)
            }
        },
        Method::GroupedJackknife,
    )
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
