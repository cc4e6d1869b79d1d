//! Exact quantiles of a pass's similarities, in two passes of the pairwise kernel: counts in
//! fine bins, then the pairs of the bins that hold the asked order statistics.

use crate::kernel::{self, Sets};
use crate::{Modality, Result, Scalar, UnitEmbeddings, check};

/// Bins of the first pass of the exact quantiles: fine enough that the bins of the asked ranks
/// hold few pairs, coarse enough that the per-task counts stay small (0.5 MiB each).
pub(crate) const SELECT_BINS: usize = 1 << 16;
/// The most pairs the second pass of the exact quantiles keeps (256 MiB of f64).
const MAX_SELECTED: u64 = 1 << 25;

/// Exact quantiles of the similarities uᵢ·uⱼ of the pairs i < j of one set, in two passes of
/// the pairwise kernel and no n × n memory.
///
/// ```text
/// quantile(q) = v₍ₖ₎ + (q(N−1) − k)·(v₍ₖ₊₁₎ − v₍ₖ₎),   k = ⌊q(N−1)⌋,   v₍₀₎ ≤ … ≤ v₍N−1₎
/// ```
///
/// numpy's default ("linear") `np.quantile` of the N = n(n−1)/2 similarities, interpolated as
/// numpy does (from the upper neighbour when the fraction is ½ or more). The first pass counts
/// the pairs in 2¹⁶ equal bins of [−1, 1]; the second keeps only the pairs in the bins of the
/// asked order statistics, which are then sorted, so the results are exact order statistics
/// of the kernel's dot products (those of [`CosineHistogram::within`](crate::CosineHistogram::within) and of
/// [`pairwise_cosine`](crate::pairwise_cosine)). Memory: the pairs in those bins.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless every q is in [0, 1],
/// [`Error::Overflow`](crate::Error::Overflow) when the bins of the asked ranks hold more than
/// 2²⁵ pairs (a set whose similarities crowd within 3e-5 of each other, such as collapsed
/// embeddings; [`CosineHistogram::quantile_bounds`](crate::CosineHistogram::quantile_bounds) still bounds them).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, cosine_quantiles_within};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]])?)?;
/// // The six similarities sorted: −0.7071, 0, 0, 0.7071, 0.7071, 0.7071 (up to rounding).
/// let q = cosine_quantiles_within(&x, &[0.0, 0.5, 1.0])?;
/// let r = 0.5f64.sqrt();
/// assert!((q[0] + r).abs() < 1e-15 && (q[2] - r).abs() < 1e-15);
/// assert!((q[1] - r / 2.0).abs() < 1e-15); // halfway between 0 and 0.7071
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Hyndman & Fan, "Sample Quantiles in Statistical Packages", The American Statistician 1996
/// (definition 7, numpy's default); Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 2a.
pub fn cosine_quantiles_within<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    qs: &[f64],
) -> Result<Vec<f64>> {
    check::at_least(2, x.len())?;
    exact_quantiles(Sets::one(x.as_slice(), x.dim()), true, qs)
}

/// Exact quantiles of the similarities aᵢ·bⱼ of all n·m pairs of two sets, as
/// [`cosine_quantiles_within`] does for one set.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch), and as
/// [`cosine_quantiles_within`] (but any n, m ≥ 1).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, cosine_quantiles_between};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [-1.0, 0.0]])?)?;
/// // The four similarities: −1, 0, 0, 1; the median is 0.
/// assert_eq!(cosine_quantiles_between(&a, &b, &[0.0, 0.5, 1.0])?, [-1.0, 0.0, 1.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Hyndman & Fan 1996 (definition 7); Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.
pub fn cosine_quantiles_between<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    qs: &[f64],
) -> Result<Vec<f64>> {
    check::comparable(a.shape(), b.shape())?;
    exact_quantiles(Sets::new(a.as_slice(), b.as_slice(), a.dim()), false, qs)
}

/// The exact quantiles `qs` of a pass's dot products: counts per bin, then the pairs of the
/// bins that hold the asked order statistics, sorted.
fn exact_quantiles(sets: Sets<'_>, within: bool, qs: &[f64]) -> Result<Vec<f64>> {
    check_fractions(qs)?;
    let counts = kernel::histogram(sets, within, SELECT_BINS, 0.0).counts;
    let selection = Selection::of(&counts, qs)?;
    let values = kernel::values_in_bins(sets, within, &selection.wanted());
    Ok((selection.quantiles(values)).expect("the pass's values in the bins it counted"))
}

/// The order statistics that quantiles of a pass need (numpy's virtual index q·(N − 1)
/// between the ranks k = ⌊q·(N − 1)⌋ and k + 1), and the bins of its first pass that hold
/// them.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Selection {
    qs: Vec<f64>,
    /// N, the pairs of the pass.
    total: u64,
    /// Each bin that holds an asked order statistic, ascending: the bin, the pairs in the bins
    /// before it, and its pairs.
    bins: Vec<(usize, u64, u64)>,
}

impl Selection {
    /// The selection of the quantiles `qs` from the pass's counts in [`SELECT_BINS`] bins
    /// (at least one pair in all).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless every q is in
    /// [0, 1]; [`Error::Overflow`](crate::Error::Overflow) when the bins hold more than 2²⁵
    /// pairs.
    pub(crate) fn of(counts: &[u64], qs: &[f64]) -> Result<Self> {
        check_fractions(qs)?;
        // first[b]: the pairs in the bins before b.
        let first: Vec<u64> = (counts.iter())
            .scan(0, |seen, &c| Some(std::mem::replace(seen, *seen + c)))
            .collect();
        let total: u64 = counts.iter().sum();
        let bin_of = |rank: u64| first.partition_point(|&f| f <= rank) - 1;
        let mut wanted = vec![false; counts.len()];
        for (k, next, _) in ranks(qs, total) {
            wanted[bin_of(k)] = true;
            wanted[bin_of(next)] = true;
        }
        let bins: Vec<_> = (0..counts.len())
            .filter(|&b| wanted[b])
            .map(|b| (b, first[b], counts[b]))
            .collect();
        check::at_most(
            "the pairs in the bins of the asked quantiles (at most 2^25)",
            bins.iter().map(|&(.., count)| count).sum(),
            MAX_SELECTED,
        )?;
        Ok(Self {
            qs: qs.to_vec(),
            total,
            bins,
        })
    }

    /// A flag for each of the [`SELECT_BINS`] bins: whether the second pass keeps its pairs.
    pub(crate) fn wanted(&self) -> Vec<bool> {
        let mut wanted = vec![false; SELECT_BINS];
        for &(bin, ..) in &self.bins {
            if let Some(flag) = wanted.get_mut(bin) {
                *flag = true;
            }
        }
        wanted
    }

    /// The wanted bins, ascending.
    pub(crate) fn bins(&self) -> impl Iterator<Item = usize> + '_ {
        self.bins.iter().map(|&(bin, ..)| bin)
    }

    /// N, the pairs of the pass.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Whether [`Selection::of`] could have made this selection (one from outside bytes may
    /// hold anything): at least one pair, every q in [0, 1], at most two bins a quantile, the
    /// bins ascending among the [`SELECT_BINS`], each bin's ranks after the previous one's and
    /// among the N, and at most 2²⁵ pairs in them.
    pub(crate) fn well_formed(&self) -> bool {
        let mut previous: Option<usize> = None;
        let mut ranks_end = 0u64;
        let mut kept = 0u64;
        for &(bin, first, count) in &self.bins {
            let end = first.checked_add(count);
            if previous.is_some_and(|p| p >= bin)
                || bin >= SELECT_BINS
                || first < ranks_end
                || end.is_none_or(|end| end > self.total)
            {
                return false;
            }
            (previous, ranks_end) = (Some(bin), first + count);
            kept = kept.saturating_add(count);
        }
        self.total >= 1
            && self.qs.iter().all(|q| (0.0..=1.0).contains(q))
            && self.bins.len() <= 2 * self.qs.len()
            && kept <= MAX_SELECTED
    }

    /// The quantiles, from the pass's dot products in the wanted bins (in any order), each
    /// interpolated as numpy does (from the nearer neighbour, so that a fraction of 1 gives
    /// the upper one exactly); `None` unless the selection is [`well_formed`](Self::well_formed)
    /// and the values fill its bins as it counts them (either may come from outside bytes).
    pub(crate) fn quantiles(&self, mut values: Vec<f64>) -> Option<Vec<f64>> {
        if !self.well_formed() {
            return None;
        }
        // At most N: well-formed bins hold disjoint ranks among the N.
        let kept: u64 = self.bins.iter().map(|&(.., count)| count).sum();
        if kept != values.len() as u64 {
            return None;
        }
        values.sort_unstable_by(f64::total_cmp);
        // kept_before[i]: the values in the wanted bins before the i-th. Every value is in its
        // bin, and a similarity of unit rows (rounding may carry it a little past ±1; a value
        // past 2 in an end bin, or not a number, is another pass's).
        let mut kept_before = Vec::with_capacity(self.bins.len());
        let mut start = 0;
        for &(bin, _, count) in &self.bins {
            let end = start + count as usize;
            let inside = |v: &f64| v.abs() <= 2.0 && kernel::bin_of(*v, SELECT_BINS) == bin;
            if !values[start..end].iter().all(inside) {
                return None;
            }
            kept_before.push(start);
            start = end;
        }
        // The bin that holds a rank: the last whose first rank is at most it, if it reaches it.
        let order_statistic = |rank: u64| {
            let i = (self.bins.partition_point(|&(_, first, _)| first <= rank)).checked_sub(1)?;
            let (_, first, count) = self.bins[i];
            (rank - first < count).then(|| values[kept_before[i] + (rank - first) as usize])
        };
        ranks(&self.qs, self.total)
            .map(|(k, next, t)| {
                let (low, high) = (order_statistic(k)?, order_statistic(next)?);
                // numpy's lerp: from the nearer end, so that t = 1 gives `high` exactly.
                Some(if t >= 0.5 {
                    high - (high - low) * (1.0 - t)
                } else {
                    low + (high - low) * t
                })
            })
            .collect()
    }
}

/// Checks that every q is in [0, 1].
fn check_fractions(qs: &[f64]) -> Result<()> {
    qs.iter()
        .try_for_each(|&q| check::fraction("q", q).map(drop))
}

/// For each q, the ranks k = ⌊q·(N − 1)⌋ and k + 1 (at most N − 1) of numpy's virtual index
/// q·(N − 1) among N ≥ 1 values, and its fraction past k.
fn ranks(qs: &[f64], total: u64) -> impl Iterator<Item = (u64, u64, f64)> + '_ {
    let last = total - 1;
    qs.iter().map(move |&q| {
        let position = q * last as f64;
        // At most N − 1, where N − 1 past 2⁵³ rounds up as a float.
        let k = (position.floor() as u64).min(last);
        (k, (k + 1).min(last), position - k as f64)
    })
}
