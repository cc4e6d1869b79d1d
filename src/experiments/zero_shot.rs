//! Zero-shot accuracy as the gap moves (Table 1), and the zero-shot ROC-AUC of a binary task.

use super::{Shift, along_gap};
use crate::check;
use crate::{Modality, Result, Scalar, UnitEmbeddings, gap, hit_rates, stats::roc_auc};

/// The Table 1 protocol: zero-shot accuracy as the gap between the images and the class
/// prompts is shifted, one δ at a time.
///
/// ```text
/// g = direction, or the unit gap of the task's own features (images − prompts)
/// for each δ:  (a′, p′) = shift(a, p, g, δ, Both);  record ‖gap(a′, p′)‖, Hit@1, Hit@5, Hit@10
/// ```
///
/// Returns an iterator: each point is computed when the caller asks for it (so the caller
/// shows progress, stops early or runs the points in parallel); the library never prints.
/// The reference's δ are −5, −4.75, …, 4.75; the paper reports the best top-1 over the sweep
/// against δ = 0. A direction from elsewhere (e.g. the MSCOCO gap) is passed as `direction`.
///
/// # Errors
///
/// Up front: [`Error::DimensionMismatch`](crate::Error::DimensionMismatch), [`Error::LengthMismatch`](crate::Error::LengthMismatch) and
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) as in [`hit_rates`], [`Error::ZeroGap`](crate::Error::ZeroGap) when the direction is
/// the task's own and the gap is zero. Per point: the errors of [`shift`](super::shift).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::zero_shot_sweep};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1, 1.0], [0.1, 1.0, 1.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])?)?;
/// for point in zero_shot_sweep(&img, &prompts, &[0, 1], &[-1.0, 0.0, 1.0], None)? {
///     let point = point?;
///     assert_eq!(point.hit_at_1, 1.0);
/// }
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 5.1 and Table 1;
/// `Table_1_*/training/train_clip.py` lines 77–105, `shift_features.ipynb` cell 0.
pub fn zero_shot_sweep<'a, T: Scalar, A: Modality, B: Modality>(
    images: &'a UnitEmbeddings<T, A>,
    prompts: &'a UnitEmbeddings<T, B>,
    labels: &'a [usize],
    deltas: &'a [f64],
    direction: Option<&[f64]>,
) -> Result<impl Iterator<Item = Result<ZeroShotPoint>> + 'a> {
    check::labels("labels", images.len(), prompts.len(), labels)?;
    let direction = match direction {
        Some(g) => g.to_vec(),
        None => gap(images, prompts)?.direction()?,
    };
    Ok(along_gap(
        images,
        prompts,
        direction,
        deltas,
        Shift::Both,
        move |delta, a, p| {
            let hits = hit_rates(a, p, labels, &[1, 5, 10])?;
            Ok(ZeroShotPoint {
                delta,
                gap_distance: gap(a, p)?.distance(),
                hit_at_1: hits[0],
                hit_at_5: hits[1],
                hit_at_10: hits[2],
            })
        },
    ))
}

/// One δ of [`zero_shot_sweep`]: the gap after the shift and the zero-shot Hit@1/5/10.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::ZeroShotPoint;
///
/// let p = ZeroShotPoint { delta: 0.0, gap_distance: 1.1, hit_at_1: 0.6, hit_at_5: 0.9, hit_at_10: 1.0 };
/// assert!(p.hit_at_1 <= p.hit_at_5);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroShotPoint {
    /// The shift δ.
    pub delta: f64,
    /// ‖centroid(images′) − centroid(prompts′)‖ after the shift.
    pub gap_distance: f64,
    /// Top-1 accuracy after the shift.
    pub hit_at_1: f64,
    /// Hit@5 after the shift (K clamped to the number of prompts).
    pub hit_at_5: f64,
    /// Hit@10 after the shift (K clamped to the number of prompts).
    pub hit_at_10: f64,
}

/// The zero-shot ROC-AUC of a binary task with two class prompts (HatefulMemes): images
/// ranked by how much more similar they are to prompt 1 than to prompt 0.
///
/// ```text
/// mᵢ = aᵢ·(p₁ − p₀),   AUC = roc_auc(m, labelᵢ = 1)
/// ```
///
/// Everything is converted to f64 first: p₁ − p₀ is formed once (exact for f32 input unless
/// two coordinates differ in magnitude by more than 2²⁹) and each margin is one f64 dot
/// product, so margins carry only f64 rounding, about d·ε·‖p₁ − p₀‖ at most, for f32 and f64
/// input alike, rather than the difference of two separately rounded cosines (f32 cosines
/// for f32 input).
///
/// The reference ranks by the second softmax probability, 1/(1 + e^{−s·mᵢ}), a strictly increasing
/// function of the margin mᵢ for any logit scale s > 0, so the AUC is the margin's and there is
/// no logit-scale parameter. Ranking by the margin is also exact where the probability is not:
/// at large s·|mᵢ| it rounds to 0 or 1 in floating point and would tie images that the margin
/// orders.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) with `expected: 2` unless there are exactly two prompts (`found`
/// their number), [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless there is one label per image,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless every label is 0 or 1, [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// and those of [`roc_auc`](crate::stats::roc_auc) (both labels must occur).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::zero_shot_roc_auc};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0, 0.2], [0.3, 1.0], [1.0, 0.6]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// // Margins rank image 1, then 2, then 0; only image 2 is positive: it beats image 0 only.
/// assert_eq!(zero_shot_roc_auc(&img, &prompts, &[0, 0, 1])?, 0.5);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1 (HatefulMemes);
/// `evaluate_binary_classification` in `Table_1_*/training/train_clip.py` lines 66–74 in
/// Weixin-Liang/Modality-Gap.
pub fn zero_shot_roc_auc<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    prompts: &UnitEmbeddings<T, B>,
    labels: &[usize],
) -> Result<f64> {
    check::same_len(2, prompts.len())?;
    check::labels("labels", images.len(), 2, labels)?;
    check::comparable(images.shape(), prompts.shape())?;
    let direction: Vec<f64> = prompts
        .row(1)
        .iter()
        .zip(prompts.row(0))
        .map(|(&p1, &p0)| p1.to_f64() - p0.to_f64())
        .collect();
    let margins: Vec<f64> = images
        .rows()
        .map(|a| a.iter().zip(&direction).map(|(&x, w)| x.to_f64() * w).sum())
        .collect();
    let positive: Vec<bool> = labels.iter().map(|&label| label == 1).collect();
    roc_auc(&positive, &margins)
}
