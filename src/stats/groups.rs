//! Per-group prediction rates (the fairness table).

use std::collections::BTreeMap;

use crate::{Result, check};

/// How one group's samples were predicted: its size and, for each category of classes, the
/// fraction of its samples predicted as one of them.
///
/// # Examples
///
/// ```
/// use modality_gap::stats::GroupRates;
///
/// let r = GroupRates { group: "Black", size: 3, rates: vec![0.0, 2.0 / 3.0] };
/// assert_eq!(r.rates.iter().sum::<f64>(), 2.0 / 3.0); // the notebook's "sum" column
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 2.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRates<G> {
    /// The group (the true race, in the paper).
    pub group: G,
    /// The number of samples in the group, at least 1.
    pub size: usize,
    /// `rates[c]`: the fraction of the group predicted as a class of `categories[c]`.
    pub rates: Vec<f64>,
}

/// Per-group prediction rates: for every group, the fraction of its samples whose predicted
/// class falls in each category. The paper's Table 2 (FairFace) reports, per race, the rate of
/// crime-related and of non-human predictions and their sum, as the image gap is shifted.
///
/// ```text
/// rates_g[c] = #{ i : groupᵢ = g,  predictionᵢ ∈ categories[c] } / #{ i : groupᵢ = g }
/// ```
///
/// A category is any `AsRef<[usize]>`: slices, arrays or vectors of class indices. Groups come
/// out in sorted order (`Ord`), each once; a group with no sample does not appear.
/// A class may belong to several categories or to none. Reducing the reference's labels (the race
/// of `'<race>_<gender>'` by `split('_')[0]`, class names to indices) is the caller's.
///
/// # Errors
///
/// [`Error::Empty`](crate::Error::Empty) for no samples,
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless there is one prediction per
/// group label.
///
/// # Examples
///
/// ```
/// use modality_gap::stats::group_rates;
///
/// // Classes 0–1 are people, 2 is "thief", 3 is "animal".
/// let groups = ["b", "a", "b", "a"];
/// let predictions = [2, 0, 3, 2];
/// let rates = group_rates(&groups, &predictions, &[[2], [3]])?;
/// assert_eq!((rates[0].group, rates[0].size, rates[0].rates.clone()), ("a", 2, vec![0.5, 0.0]));
/// assert_eq!((rates[1].group, rates[1].size, rates[1].rates.clone()), ("b", 2, vec![0.5, 0.5]));
/// // Categories of different sizes: vectors (or slices).
/// let crime_or_animal = group_rates(&groups, &predictions, &[vec![2, 3], vec![0]])?;
/// assert_eq!(crime_or_animal[1].rates, vec![1.0, 0.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 2; `shift_CLIP_FairFace_Bias.ipynb`
/// cell 22 in Weixin-Liang/Modality-Gap.
pub fn group_rates<G: Ord + Clone, C: AsRef<[usize]>>(
    groups: &[G],
    predictions: &[usize],
    categories: &[C],
) -> Result<Vec<GroupRates<G>>> {
    check::same_len(groups.len(), predictions.len())?;
    check::not_empty(groups.len())?;
    // group → (size, hits per category)
    let mut tally: BTreeMap<&G, (usize, Vec<usize>)> = BTreeMap::new();
    for (group, prediction) in groups.iter().zip(predictions) {
        let (size, hits) = tally
            .entry(group)
            .or_insert_with(|| (0, vec![0; categories.len()]));
        *size += 1;
        for (hit, category) in hits.iter_mut().zip(categories) {
            *hit += usize::from(category.as_ref().contains(prediction));
        }
    }
    Ok(tally
        .into_iter()
        .map(|(group, (size, hits))| GroupRates {
            group: group.clone(),
            size,
            rates: hits.iter().map(|&h| h as f64 / size as f64).collect(),
        })
        .collect())
}
