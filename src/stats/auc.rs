//! The area under the ROC curve.

use crate::{Result, check};

/// The area under the ROC curve of `scores` for the binary `labels` (`true`: positive), as the
/// Mann–Whitney
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
/// Higher scores mean "more positive"; only their order matters. The arguments come in
/// scikit-learn's order, `roc_auc_score(y_true, y_score)`: labels, then scores.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless there is one score per label,
/// [`Error::Empty`](crate::Error::Empty) for no scores,
/// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN or infinite score (its index as
/// `row`, column 0), [`Error::InvalidParameter`](crate::Error::InvalidParameter) named
/// `labels` unless both classes occur.
///
/// # Examples
///
/// ```
/// use modality_gap::stats::roc_auc;
///
/// // Pairs (positive, negative): (0.9, 0.1) and (0.9, 0.5) ordered, (0.5, 0.1) ordered,
/// // (0.5, 0.5) tied: (3 + ½)/4.
/// let auc = roc_auc(&[true, true, false, false], &[0.9, 0.5, 0.5, 0.1])?;
/// assert_eq!(auc, 0.875);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1 (HatefulMemes, AUC);
/// `Table_1_*/training/train_clip.py` lines 66–74 in Weixin-Liang/Modality-Gap; Mann &
/// Whitney, Ann. Math. Stat. 1947.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64> {
    check::same_len(labels.len(), scores.len())?;
    check::not_empty(scores.len())?;
    check::finite_scores(scores)?;
    let positives = labels.iter().filter(|&&p| p).count();
    check::both_classes(positives, labels.len())?;
    let negatives = scores.len() - positives;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    // Twice the Mann–Whitney U: each positive beats the negatives of lower scores (2 each)
    // and ties with those of equal score (1 each).
    let (mut twice_u, mut negatives_below) = (0u128, 0u128);
    for tied in order.chunk_by(|&i, &j| scores[i] == scores[j]) {
        let pos = tied.iter().filter(|&&i| labels[i]).count() as u128;
        let neg = tied.len() as u128 - pos;
        twice_u += pos * (2 * negatives_below + neg);
        negatives_below += neg;
    }
    Ok(twice_u as f64 / (2 * positives as u128 * negatives as u128) as f64)
}
