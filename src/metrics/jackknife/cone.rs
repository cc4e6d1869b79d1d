//! The cone (the mean cosine within one set) and the relative modality gap: U-statistics over
//! pairs whose leave-one-out values come from one dot product per row with the sum vector.

use crate::metrics::pairing::Pairing;
use crate::reduce::{dot, per_row, row_sum_and_squared_norms};
use crate::{
    Diagonal, Jackknife, Method, Modality, RelativeGap, Result, Scalar, UnitEmbeddings, check,
};

/// The jackknife of [`mean_pairwise_cosine`](crate::mean_pairwise_cosine), exactly and in
/// O(n·d): with s = Σⱼ uⱼ and rᵢ = uᵢ·s − ‖uᵢ‖² (row i's sum of cosines with the others),
///
/// ```text
/// Excluded:  θ₋ᵢ − θ = 2 (r̄ − rᵢ) / ((n − 1)(n − 2)),            r̄ = (1/n) Σ rᵢ
/// Included:  θ₋ᵢ − θ = ‖s − uᵢ‖²/(n − 1)² − ‖s‖²/n²
///                    = (n Q − ‖s‖²)/(n²(n − 1)²) − (wᵢ − w̄)/(n − 1)²,   wᵢ = 2 uᵢ·s − ‖uᵢ‖²
/// ```
///
/// (Q = Σ ‖uᵢ‖².) The mean over i ≠ j is a U-statistic, so its deviations sum to zero (no
/// bias); the mean over all n² pairs is a V-statistic, biased by O(1/n), which
/// [`bias_corrected`](crate::Jackknife::bias_corrected) removes. The value is the metric's.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3 with the diagonal excluded
/// (a set of n − 1 = 1 has no pairs), n < 2 with it included.
///
/// # Examples
///
/// ```
/// use modality_gap::{Diagonal, Embeddings, Image, Jackknife, UnitEmbeddings, jackknife, mean_pairwise_cosine};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[
///     [1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.6, 0.8],
/// ])?)?;
/// let fast = jackknife::mean_pairwise_cosine(&x, Diagonal::Excluded)?;
/// let brute = Jackknife::delete_one(4, |keep| mean_pairwise_cosine(&x.select(keep)?, Diagonal::Excluded))?;
/// assert_eq!(fast.value(), brute.value());
/// assert!((fast.standard_error() - brute.standard_error()).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 (the cone effect); W. Hoeffding, "A
/// Class of Statistics with Asymptotically Normal Distribution", 1948 (U-statistics); Efron &
/// Stein 1981 (the jackknife variance of a U-statistic).
pub fn mean_pairwise_cosine<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    diagonal: Diagonal,
) -> Result<Jackknife> {
    check::at_least(least_samples(diagonal), x.len())?;
    let value = crate::mean_pairwise_cosine(x, diagonal)?;
    let (sum, squared_norms) = row_sum_and_squared_norms(x);
    let deviations = match diagonal {
        Diagonal::Excluded => excluded_deviations(per_row(x.len(), |i| within_row(x, &sum, i))),
        Diagonal::Included => included_deviations(
            &per_row(x.len(), |i| included_row(x, &sum, i)),
            included_bias(x.len(), &sum, squared_norms),
        ),
    };
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// The fewest samples whose mean cosine has leave-one-out values: 3 over the pairs i ≠ j (one
/// pair must remain), 2 with the diagonal.
pub(crate) fn least_samples(diagonal: Diagonal) -> usize {
    match diagonal {
        Diagonal::Excluded => 3,
        Diagonal::Included => 2,
    }
}

/// Row i's sum of cosines with the other rows, rᵢ = uᵢ·s − ‖uᵢ‖², given the sum s of all.
pub(crate) fn within_row<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    sum: &[f64],
    i: usize,
) -> f64 {
    dot(x.row(i), sum) - dot(x.row(i), x.row(i))
}

/// The deviations 2(r̄ − rᵢ)/((n − 1)(n − 2)) of the mean cosine over i ≠ j from the sums rᵢ
/// of [`within_row`].
pub(crate) fn excluded_deviations(r: Vec<f64>) -> Vec<f64> {
    let within = WithinSums::of_rows(r);
    (0..within.r.len()).map(|i| within.deviation(i)).collect()
}

/// Row i's term wᵢ = 2 uᵢ·s − ‖uᵢ‖² of the mean cosine over all pairs, given the sum s.
pub(crate) fn included_row<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    sum: &[f64],
    i: usize,
) -> f64 {
    2.0 * dot(x.row(i), sum) - dot(x.row(i), x.row(i))
}

/// The common part (n Σ‖uᵢ‖² − ‖s‖²)/(n²(n − 1)²) of the leave-one-out changes of the mean
/// cosine over all pairs of n rows with sum s.
pub(crate) fn included_bias(n: usize, sum: &[f64], squared_norms: f64) -> f64 {
    let n = n as f64;
    (n * squared_norms - dot(sum, sum)) / (n * n * (n - 1.0) * (n - 1.0))
}

/// The deviations bias − (wᵢ − w̄)/(n − 1)² of the mean cosine over all pairs from the terms
/// wᵢ of [`included_row`] and [`included_bias`].
pub(crate) fn included_deviations(w: &[f64], bias: f64) -> Vec<f64> {
    let n = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n;
    w.iter()
        .map(|wi| bias - (wi - mean) / ((n - 1.0) * (n - 1.0)))
        .collect()
}

/// The jackknife of [`relative_gap`](crate::relative_gap)'s value (RMG) over the n pairs,
/// exactly and in O(n·d): the matched distance and the two within-set distances of each
/// leave-one-out set come from their per-row sums as in [`mean_pairwise_cosine`] (the matched
/// cosine is a mean over the pairs), and RMG₋ᵢ is the formula of
/// [`RelativeGap`](crate::RelativeGap) on them, floor included.
///
/// # Errors
///
/// Those of [`relative_gap`](crate::relative_gap), and
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, jackknife, npy, relative_gap};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let rmg = jackknife::relative_gap(&img, &txt)?.estimate();
/// assert_eq!(rmg.value, relative_gap(&img, &txt)?.value);
/// assert!(rmg.standard_error > 1e-4 && rmg.standard_error < 1e-2);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Schrodi et al., "Two Effects, One Trigger", ICLR 2025, Sec. 3 (RMG);
/// lmb-freiburg/two-effects-one-trigger, `analysis/gap_precompute.py`, `compute_rmg`.
pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<Jackknife> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(3, a.len())?;
    let value = crate::relative_gap(a, b)?.value;
    let matched = Pairing::Rows.values(a, b, dot);
    relative_gap_deviations(value, &matched, WithinSums::new(a), WithinSums::new(b))
}

/// The jackknife of the relative gap `value` over n pairs from the matched cosines aᵢ·bᵢ and
/// each set's [`WithinSums`]: RMG₋ᵢ − RMG, each leave-one-out term from its sums.
pub(crate) fn relative_gap_deviations(
    value: f64,
    matched: &[f64],
    within_a: WithinSums,
    within_b: WithinSums,
) -> Result<Jackknife> {
    let n = matched.len() as f64;
    let matched_sum: f64 = matched.iter().sum();
    let deviations = matched
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let rmg = RelativeGap::from_cosines(
                (matched_sum - m) / (n - 1.0),
                within_a.mean() + within_a.deviation(i),
                within_b.mean() + within_b.deviation(i),
            );
            rmg.value - value
        })
        .collect();
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// The sums rᵢ = uᵢ·s − ‖uᵢ‖² of each row's cosines with the others (s = Σⱼ uⱼ), from which
/// the mean cosine over i ≠ j and its leave-one-out values follow in O(1) each.
pub(crate) struct WithinSums {
    r: Vec<f64>,
    mean: f64,
}

impl WithinSums {
    pub(super) fn new<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>) -> Self {
        let (sum, _) = row_sum_and_squared_norms(x);
        Self::of_rows(per_row(x.len(), |i| within_row(x, &sum, i)))
    }

    /// From the sums rᵢ of [`within_row`], in row order.
    pub(crate) fn of_rows(r: Vec<f64>) -> Self {
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        Self { r, mean }
    }

    /// rᵢ, row i's sum of cosines with the others.
    pub(super) fn row(&self, i: usize) -> f64 {
        self.r[i]
    }

    /// Σᵢ rᵢ, the sum of the cosines over the ordered pairs i ≠ j.
    pub(super) fn total(&self) -> f64 {
        self.mean * self.r.len() as f64
    }

    /// The mean cosine over i ≠ j, r̄/(n − 1).
    pub(super) fn mean(&self) -> f64 {
        self.mean / (self.r.len() - 1) as f64
    }

    /// The mean with row i left out, minus the mean: 2(r̄ − rᵢ)/((n − 1)(n − 2)).
    pub(super) fn deviation(&self, i: usize) -> f64 {
        let n = self.r.len() as f64;
        2.0 * (self.mean - self.r[i]) / ((n - 1.0) * (n - 2.0))
    }
}
