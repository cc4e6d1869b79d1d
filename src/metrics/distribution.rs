use super::{centroid, mean_pairwise_cosine};
use crate::{
    Diagonal, Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, CosineCounts, Sets},
};

/// The most bins a histogram may have (its counts are kept per task, 8 bytes a bin).
const MAX_BINS: usize = 1 << 24;

/// The distribution of pairwise cosine similarities: exact counts in equal bins over [−1, 1],
/// the exact mean, standard deviation, minimum and maximum, and quantiles from the counts.
/// Obtain it with [`CosineHistogram::within`] (the cone effect's pairs) or
/// [`CosineHistogram::between`].
///
/// ```text
/// bin b = [−1 + b·w, −1 + (b+1)·w),  w = 2 / bins
/// (the last bin holds 1 itself; values beyond ±1 by rounding go to the end bins)
/// ```
///
/// The Fig. 2a notebooks of Liang et al. describe the same values with pandas (`describe()` of
/// the n × n matrix without its diagonal); this needs no matrix.
///
/// # Examples
///
/// ```
/// use modality_gap::{CosineHistogram, Embeddings, Image, UnitEmbeddings};
///
/// // Three unit vectors at 0°, 90°, 180°: pair similarities 0, −1, 0.
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])?)?;
/// let h = CosineHistogram::within(&x, 4)?; // bins of width 0.5
/// assert_eq!(h.counts(), &[1, 0, 2, 0]);
/// assert_eq!((h.pair_count(), h.min(), h.max()), (3, -1.0, 0.0));
/// assert!((h.mean() + 1.0 / 3.0).abs() < 1e-15);
/// assert_eq!(h.quantile(0.0)?, -1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2a (the distribution of
/// cosine similarities inside one modality).
#[derive(Debug, Clone, PartialEq)]
pub struct CosineHistogram {
    counts: Vec<u64>,
    count: u64,
    mean: f64,
    squared_deviations: f64,
    min: f64,
    max: f64,
}

impl CosineHistogram {
    /// The similarities uᵢ·uⱼ of the n(n−1)/2 pairs i < j of one set (diagonal excluded, each
    /// pair once): the cone effect's distribution. Its mean is
    /// [`mean_pairwise_cosine`](crate::mean_pairwise_cosine) with [`Diagonal::Excluded`].
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2, [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless
    /// 1 ≤ `bins` ≤ 2²⁴.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{CosineHistogram, Diagonal, Embeddings, Image, UnitEmbeddings, mean_pairwise_cosine};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])?)?;
    /// let h = CosineHistogram::within(&x, 20)?;
    /// assert_eq!(h.pair_count(), 3);
    /// assert!((h.mean() - mean_pairwise_cosine(&x, Diagonal::Excluded)?).abs() < 1e-7);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 2a.
    pub fn within<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>, bins: usize) -> Result<Self> {
        let (bins, centre) = (bin_count(bins)?, centre_within(x)?);
        let sets = Sets::one(x.as_slice(), x.dim());
        Ok(Self::from(kernel::histogram(sets, true, bins, centre)))
    }

    /// The similarities aᵢ·bⱼ of all n·m pairs of two sets (e.g. images against texts).
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 1 ≤ `bins` ≤ 2²⁴.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{CosineHistogram, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0]])?)?;
    /// let h = CosineHistogram::between(&a, &b, 2)?; // [−1, 0) and [0, 1]
    /// assert_eq!(h.counts(), &[0, 2]);
    /// assert_eq!((h.mean(), h.max()), (0.5, 1.0));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4 (image–text similarities).
    pub fn between<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        bins: usize,
    ) -> Result<Self> {
        let (bins, centre) = (bin_count(bins)?, centre_between(a, b)?);
        let sets = Sets::new(a.as_slice(), b.as_slice(), a.dim());
        Ok(Self::from(kernel::histogram(sets, false, bins, centre)))
    }

    /// The count of each bin; bin b holds the similarities in [−1 + b·w, −1 + (b+1)·w), and
    /// the last bin 1 too.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The number of pairs counted: the sum of [`counts`](Self::counts).
    pub fn pair_count(&self) -> u64 {
        self.count
    }

    /// The interval [lo, hi) of bin b.
    ///
    /// # Panics
    ///
    /// If `b` is not below the number of bins.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{CosineHistogram, Embeddings, Image, UnitEmbeddings};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0], [1.0]])?)?;
    /// assert_eq!(CosineHistogram::within(&x, 4)?.bin_range(1), (-0.5, 0.0));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn bin_range(&self, b: usize) -> (f64, f64) {
        assert!(b < self.counts.len(), "bin {b} of {}", self.counts.len());
        let width = 2.0 / self.counts.len() as f64;
        (-1.0 + b as f64 * width, -1.0 + (b + 1) as f64 * width)
    }

    /// The mean similarity, exact up to rounding (not from the bins).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample standard deviation (divisor count − 1, pandas' default), exact up to
    /// rounding; `None` for a single pair.
    pub fn std(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.squared_deviations / (self.count - 1) as f64).sqrt())
    }

    /// The smallest similarity.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The largest similarity.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The q-quantile estimated from the bins, with numpy's default (linear) definition: the
    /// value at position q·(N − 1) of the sorted similarities, interpolating between
    /// neighbours. Each order statistic is placed inside its bin as if the bin's values were
    /// evenly spread; q = 0 and q = 1 give the exact minimum and maximum. The true quantile
    /// lies within [`quantile_bounds`](Self::quantile_bounds), at most one bin width from
    /// this estimate.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 ≤ q ≤ 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{CosineHistogram, Embeddings, Image, UnitEmbeddings};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]])?)?;
    /// let h = CosineHistogram::within(&x, 2000)?; // bins of width 0.001
    /// let (lo, hi) = h.quantile_bounds(0.5)?;
    /// let median = h.quantile(0.5)?; // the true median is 0.35355… (between 0 and 0.7071…)
    /// assert!(lo <= median && median <= hi && hi - lo < 0.71);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn quantile(&self, q: f64) -> Result<f64> {
        let position = self.position(q)?;
        let below = position.floor();
        let low = self.order_statistic(below as u64);
        let high = self.order_statistic((below as u64 + 1).min(self.count - 1));
        Ok(low + (position - below) * (high - low))
    }

    /// An interval that contains the q-quantile (as in [`quantile`](Self::quantile)): from
    /// the lower edge of the bin of the order statistic below position q·(N − 1) to the upper
    /// edge of the bin of the one above, each widened by 8 ulps of 1 (a value that close to an
    /// edge may be counted in the neighbouring bin), within [min, max].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 ≤ q ≤ 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{CosineHistogram, Embeddings, Image, UnitEmbeddings};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])?)?;
    /// let (lo, hi) = CosineHistogram::within(&x, 100)?.quantile_bounds(0.0)?;
    /// // The minimum is 0, in the bin [0, 0.02) (whose edges are widened by 8 ulps).
    /// assert!(lo == 0.0 && (hi - 0.02).abs() < 1e-14);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn quantile_bounds(&self, q: f64) -> Result<(f64, f64)> {
        // Bin indices are computed in f64, so a value within a few ulps of an edge may sit in
        // the neighbouring bin: widen the edges by that much.
        const EDGE: f64 = 8.0 * f64::EPSILON;
        let position = self.position(q)?;
        let low = self.bin_range(self.bin_of_rank(position.floor() as u64)).0 - EDGE;
        let high = self.bin_range(self.bin_of_rank(position.ceil() as u64)).1 + EDGE;
        Ok((
            low.clamp(self.min, self.max),
            high.clamp(self.min, self.max),
        ))
    }

    /// q·(N − 1), for 0 ≤ q ≤ 1.
    fn position(&self, q: f64) -> Result<f64> {
        Ok(check::fraction("q", q)? * (self.count - 1) as f64)
    }

    /// The bin holding the r-th smallest similarity (0-based).
    fn bin_of_rank(&self, r: u64) -> usize {
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if r < seen {
                return b;
            }
        }
        self.counts.len() - 1
    }

    /// The r-th smallest similarity, placed evenly inside its bin (exact for the extremes).
    fn order_statistic(&self, r: u64) -> f64 {
        if r == 0 {
            return self.min;
        }
        if r + 1 == self.count {
            return self.max;
        }
        let b = self.bin_of_rank(r);
        let before: u64 = self.counts[..b].iter().sum();
        let (lo, hi) = self.bin_range(b);
        let (lo, hi) = (lo.max(self.min), hi.min(self.max));
        let fraction = ((r - before) as f64 + 0.5) / self.counts[b] as f64;
        lo + fraction * (hi - lo)
    }
}

impl From<CosineCounts> for CosineHistogram {
    fn from(c: CosineCounts) -> Self {
        let count: u64 = c.counts.iter().sum();
        let n = count as f64;
        Self {
            count,
            mean: c.centre + c.sum / n,
            squared_deviations: (c.sum_squares - c.sum * c.sum / n).max(0.0),
            min: c.min,
            max: c.max,
            counts: c.counts,
        }
    }
}

/// The centre of the moments of the similarities within one set (n ≥ 2): their mean.
pub(super) fn centre_within<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>) -> Result<f64> {
    check::at_least(2, x.len())?;
    mean_pairwise_cosine(x, Diagonal::Excluded)
}

/// The centre of the moments of the similarities between two sets of one dimension: their
/// mean over all pairs, mean(a)·mean(b).
pub(super) fn centre_between<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<f64> {
    check::comparable(a.shape(), b.shape())?;
    Ok(centroid(a)
        .iter()
        .zip(centroid(b))
        .map(|(x, y)| x * y)
        .sum())
}

/// A bin count in 1..=`MAX_BINS`.
pub(super) fn bin_count(bins: usize) -> Result<usize> {
    check::count_within("bins", bins, 1, MAX_BINS, "between 1 and 2^24")
}

/// Bins of the first pass of the exact quantiles: fine enough that the bins of the asked ranks
/// hold few pairs, coarse enough that the per-task counts stay small (0.5 MiB each).
const SELECT_BINS: usize = 1 << 16;
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
/// of the kernel's dot products (those of [`CosineHistogram::within`] and of
/// [`pairwise_cosine`](crate::pairwise_cosine)). Memory: the pairs in those bins.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless every q is in [0, 1],
/// [`Error::Overflow`](crate::Error::Overflow) when the bins of the asked ranks hold more than
/// 2²⁵ pairs (a set whose similarities crowd within 3e-5 of each other, such as collapsed
/// embeddings; [`CosineHistogram::quantile_bounds`] still bounds them).
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
    for &q in qs {
        check::fraction("q", q)?;
    }
    let counts = kernel::histogram(sets, within, SELECT_BINS, 0.0).counts;
    // first[b]: the number of pairs in the bins before b.
    let first = counts_before(counts.iter().copied());
    let total: u64 = counts.iter().sum();
    let bin_of = |rank: u64| first.partition_point(|&f| f <= rank) - 1;
    // (k, k + 1, fraction) per q, numpy's virtual index q·(N − 1).
    let ranks: Vec<(u64, u64, f64)> = qs
        .iter()
        .map(|&q| {
            let position = q * (total - 1) as f64;
            let k = position.floor() as u64;
            (k, (k + 1).min(total - 1), position - k as f64)
        })
        .collect();
    let mut wanted = vec![false; SELECT_BINS];
    for &(k, next, _) in &ranks {
        wanted[bin_of(k)] = true;
        wanted[bin_of(next)] = true;
    }
    // kept_before[b]: the kept pairs in the wanted bins before b.
    let kept_before = counts_before(
        counts
            .iter()
            .zip(&wanted)
            .map(|(&c, &w)| if w { c } else { 0 }),
    );
    let kept: u64 = counts
        .iter()
        .zip(&wanted)
        .filter(|&(_, &w)| w)
        .map(|(c, _)| c)
        .sum();
    check::at_most(
        "the pairs in the bins of the asked quantiles (at most 2^25)",
        kept,
        MAX_SELECTED,
    )?;
    let mut values = kernel::values_in_bins(sets, within, &wanted);
    debug_assert_eq!(values.len() as u64, kept);
    values.sort_unstable_by(f64::total_cmp);
    let order_statistic = |rank: u64| {
        let b = bin_of(rank);
        values[(kept_before[b] + rank - first[b]) as usize]
    };
    Ok(ranks
        .iter()
        .map(|&(k, next, t)| {
            let (low, high) = (order_statistic(k), order_statistic(next));
            // numpy's lerp: from the nearer end, so that t = 1 gives `high` exactly.
            if t >= 0.5 {
                high - (high - low) * (1.0 - t)
            } else {
                low + (high - low) * t
            }
        })
        .collect())
}

/// For each bin, the sum of the counts of the bins before it (an exclusive prefix sum).
fn counts_before(counts: impl Iterator<Item = u64>) -> Vec<u64> {
    counts
        .scan(0, |seen, c| {
            let before = *seen;
            *seen += c;
            Some(before)
        })
        .collect()
}
