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
