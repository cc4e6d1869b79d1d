use super::zero_shot::check_labels;
use crate::{Error, Modality, Result, Scalar, UnitEmbeddings, metrics::same_dim};

/// The area under the ROC curve of `scores` for the labels `positive`, as the Mann–Whitney
/// statistic: the probability that a random positive scores above a random negative, ties
/// counting one half.
///
/// ```text
/// AUC = ( #{(i, j) : posᵢ, negⱼ, sᵢ > sⱼ} + ½ #{(i, j) : posᵢ, negⱼ, sᵢ = sⱼ} ) / (n₊ n₋)
/// ```
///
/// This is sklearn's `roc_auc_score` (the trapezoidal area, i.e. average ranks for ties). One
/// sort, O(n log n); the pair counts are exact integers (u128), so the result is one division
/// rounded as long as 2·n₊·n₋ stays below 2⁵³ (n up to about 1.3·10⁸), where both counts
/// convert to f64 exactly; beyond, each conversion adds one more rounding (≤ 3 in all).
/// Higher scores mean "more positive"; only their order matters.
///
/// # Errors
///
/// [`Error::Empty`] for no scores, [`Error::LengthMismatch`] unless there is one label per
/// score, [`Error::NonFinite`] for a NaN or infinite score (its index as `row`, column 0),
/// [`Error::InvalidParameter`] unless both classes occur.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::roc_auc;
///
/// // Pairs (positive, negative): (0.9, 0.1) and (0.9, 0.5) ordered, (0.5, 0.1) ordered,
/// // (0.5, 0.5) tied: (3 + ½)/4.
/// let auc = roc_auc(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false])?;
/// assert_eq!(auc, 0.875);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1 (HatefulMemes, AUC);
/// `Table_1_*/training/train_clip.py` lines 66–74; Mann & Whitney, Ann. Math. Stat. 1947.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Result<f64> {
    if scores.len() != positive.len() {
        return Err(Error::LengthMismatch {
            expected: scores.len(),
            found: positive.len(),
        });
    }
    if scores.is_empty() {
        return Err(Error::Empty);
    }
    if let Some(row) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::NonFinite { row, column: 0 });
    }
    let positives = positive.iter().filter(|&&p| p).count();
    let negatives = scores.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(Error::InvalidParameter {
            name: "positive",
            value: positives as f64,
            requirement: "a count of true labels between 1 and n − 1",
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    // Twice the Mann–Whitney U: each positive beats the negatives of lower scores (2 each)
    // and ties with those of equal score (1 each).
    let (mut twice_u, mut negatives_below) = (0u128, 0u128);
    for tied in order.chunk_by(|&i, &j| scores[i] == scores[j]) {
        let pos = tied.iter().filter(|&&i| positive[i]).count() as u128;
        let neg = tied.len() as u128 - pos;
        twice_u += pos * (2 * negatives_below + neg);
        negatives_below += neg;
    }
    Ok(twice_u as f64 / (2 * positives as u128 * negatives as u128) as f64)
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
/// The peers rank by the second softmax probability, 1/(1 + e^{−s·mᵢ}), a strictly increasing
/// function of the margin mᵢ for any logit scale s > 0, so the AUC is the margin's and there is
/// no logit-scale parameter. Ranking by the margin is also exact where the probability is not:
/// at large s·|mᵢ| it rounds to 0 or 1 in floating point and would tie images that the margin
/// orders.
///
/// # Errors
///
/// [`Error::LengthMismatch`] with `expected: 2` unless there are exactly two prompts (`found`
/// their number), [`Error::LengthMismatch`] unless there is one label per image,
/// [`Error::InvalidParameter`] unless every label is 0 or 1, [`Error::DimensionMismatch`],
/// and those of [`roc_auc`] (both labels must occur).
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
/// `evaluate_binary_classification` in `Table_1_*/training/train_clip.py` lines 66–74; the
/// oracle's `binary_roc_auc`.
pub fn zero_shot_roc_auc<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    prompts: &UnitEmbeddings<T, B>,
    labels: &[usize],
) -> Result<f64> {
    if prompts.len() != 2 {
        return Err(Error::LengthMismatch {
            expected: 2,
            found: prompts.len(),
        });
    }
    check_labels(images.len(), 2, labels)?;
    same_dim(images, prompts)?;
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
    roc_auc(&margins, &positive)
}
