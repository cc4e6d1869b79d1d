//! How sure a number is: an [`Estimate`] (a value, its standard error and how it was
//! obtained), its [`Interval`]s and p-values, and the delete-one [`Jackknife`] that most
//! standard errors of this crate come from.

use rand::rngs::StdRng;
use rand::{SeedableRng, seq::SliceRandom};

use crate::reduce::par_map;
use crate::student_t::{t_cdf, t_quantile};
use crate::{Error, Result, check};

/// How a standard error was obtained. Each method's formula and where it is valid is in
/// `docs/uncertainty.md` of the repository.
///
/// # Examples
///
/// ```
/// use modality_gap::{Jackknife, Method};
///
/// let mean = Jackknife::of_mean(&[1.0, 2.0, 4.0])?;
/// assert_eq!(mean.estimate().method, Method::MeanOverSamples);
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// s/√n of a mean of one value per sample (numerically the delete-one jackknife of the
    /// mean, which equals s/√n exactly).
    MeanOverSamples,
    /// The delete-one jackknife over the n samples: U-statistics over pairs from their
    /// per-sample sums in O(n), nonlinear functions of them, or any metric recomputed n times.
    Jackknife,
    /// The delete-a-group jackknife over g seeded groups of samples (k-NN metrics, where the
    /// bootstrap is invalid).
    GroupedJackknife,
    /// The standard deviation of seeded bootstrap replicates.
    Bootstrap,
    /// A mean over a budget of random pairs or random rows (an incomplete U-statistic), its
    /// standard error s/√budget.
    Subsample,
}

/// A value with its standard error, the method that gave it, and the degrees of freedom of
/// the Student t reference distribution of its intervals and p-values.
///
/// ```text
/// interval:  value ± t_{(1+level)/2, dof} · standard_error
/// p-value:   2 · F_dof(−|value − null| / standard_error)      (two-sided)
/// ```
///
/// A jackknife over n samples (or g groups) has dof = n − 1 (g − 1), as Efron & Tibshirani
/// recommend for jackknife intervals; for large n the t quantile is the normal one.
///
/// # Examples
///
/// ```
/// use modality_gap::{Estimate, Method};
///
/// let e = Estimate { value: 0.82, standard_error: 0.01, dof: 499, method: Method::Jackknife };
/// let ci = e.interval(0.95)?;
/// assert!((ci.lower - 0.80035).abs() < 1e-4 && (ci.upper - 0.83965).abs() < 1e-4);
/// assert!(e.p_value(0.79)? < 0.01); // 3 standard errors from 0.79
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// B. Efron, R. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall 1993, ch. 11
/// (the jackknife) and ch. 12 (intervals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The metric on the whole sample (for [`Method::Subsample`], its estimate from random
    /// pairs).
    pub value: f64,
    /// Its estimated standard deviation over samples of the same size.
    pub standard_error: f64,
    /// The degrees of freedom of the t reference distribution (n − 1 for n samples).
    pub dof: usize,
    /// How `standard_error` was obtained.
    pub method: Method,
}

/// A two-sided interval [`lower`, `upper`] at confidence `level`.
///
/// # Examples
///
/// ```
/// use modality_gap::Interval;
///
/// let ci = Interval { lower: 0.8, upper: 0.84, level: 0.95 };
/// assert!(ci.contains(0.82) && !ci.contains(0.79));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The lower end.
    pub lower: f64,
    /// The upper end.
    pub upper: f64,
    /// The confidence level, in (0, 1).
    pub level: f64,
}

impl Interval {
    /// Whether `lower` ≤ `value` ≤ `upper`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Interval;
    ///
    /// assert!(Interval { lower: 0.0, upper: 1.0, level: 0.9 }.contains(1.0));
    /// ```
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

impl Estimate {
    /// The two-sided t interval value ± t_{(1+level)/2, dof}·standard_error.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 < level < 1 and
    /// dof ≥ 1; [`Error::Overflow`](crate::Error::Overflow) when the half-width exceeds
    /// `f64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// // Three values: mean 2, s/√n = 1/√3, t_{0.975, 2} = 4.3027.
    /// let ci = Jackknife::of_mean(&[1.0, 2.0, 3.0])?.estimate().interval(0.95)?;
    /// assert!((ci.upper - (2.0 + 4.302652729749464 / 3f64.sqrt())).abs() < 1e-12);
    /// assert!(Jackknife::of_mean(&[1.0, 2.0])?.estimate().interval(1.0).is_err());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn interval(&self, level: f64) -> Result<Interval> {
        check::open_unit_interval("level", level)?;
        let t = -t_quantile(0.5 * (1.0 - level), self.dof)?;
        let half_width = check::no_overflow("the interval's half-width", t * self.standard_error)?;
        Ok(Interval {
            lower: self.value - half_width,
            upper: self.value + half_width,
            level,
        })
    }

    /// The two-sided p-value of the hypothesis that the true value is `null`:
    /// 2·F_dof(−|value − null| / standard_error). A standard error of 0 gives 1 when the value
    /// equals `null` and 0 otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a non-finite `null` or
    /// dof = 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Estimate, Method};
    ///
    /// let e = Estimate { value: 1.96, standard_error: 1.0, dof: 1_000_000, method: Method::Jackknife };
    /// assert!((e.p_value(0.0)? - 0.05).abs() < 1e-4);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn p_value(&self, null: f64) -> Result<f64> {
        let distance = (self.value - check::finite("null", null)?).abs();
        let dof = check::at_least_one("dof", self.dof)?;
        if self.standard_error == 0.0 {
            return Ok(if distance == 0.0 { 1.0 } else { 0.0 });
        }
        Ok((2.0 * t_cdf(-distance / self.standard_error, dof)?).min(1.0))
    }
}

/// The delete-one (or delete-a-group) jackknife of a metric: its value θ on all n samples and
/// the deviations δᵢ = θ₋ᵢ − θ of its values with sample (or group) i left out.
///
/// ```text
/// SE² = ((n − 1)/n) Σᵢ (δᵢ − δ̄)²,      δ̄ = (1/n) Σᵢ δᵢ
/// bias-corrected value: θ − (n − 1)·δ̄
/// ```
///
/// Keeping the deviations rather than the values θ₋ᵢ keeps the standard error accurate where
/// θ is large and its leave-one-out values differ from it in the last digits; the metrics of
/// this crate compute δᵢ without cancellation. For a mean of one value xᵢ per sample,
/// δᵢ = (θ − xᵢ)/(n − 1) and SE = s/√n exactly. Two jackknifes of the same samples (two
/// models on the same pairs) give the paired jackknife of their [`difference`](Self::difference).
///
/// # Examples
///
/// ```
/// use modality_gap::Jackknife;
///
/// // Any metric, recomputed with each sample left out: here the median, by brute force.
/// let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
/// let median = |keep: &[usize]| {
///     let mut v: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
///     v.sort_by(f64::total_cmp);
///     let m = v.len() / 2;
///     Ok(if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) })
/// };
/// let jk = Jackknife::delete_one(x.len(), median)?;
/// assert_eq!(jk.value(), 3.5);
/// assert!(jk.standard_error() > 0.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// B. Efron, C. Stein, "The Jackknife Estimate of Variance", Annals of Statistics 9 (1981);
/// Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 11.
#[derive(Debug, Clone, PartialEq)]
pub struct Jackknife {
    value: f64,
    deviations: Vec<f64>,
    method: Method,
}

impl Jackknife {
    /// The jackknife of a metric whose value on all samples is `value` and whose deviations
    /// δᵢ = θ₋ᵢ − θ (left-out values minus `value`) are given, one per sample or group.
    /// The metrics' own jackknifes use it; [`delete_one`](Self::delete_one) computes the
    /// deviations of any metric.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for fewer than 2 deviations,
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite value or deviation (its
    /// index as `row`; the value is row 0 of column 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Jackknife, Method};
    ///
    /// let jk = Jackknife::from_deviations(1.0, vec![0.5, -0.5], Method::Jackknife)?;
    /// assert_eq!(jk.standard_error(), 0.5); // √(½ · (¼ + ¼))
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_deviations(value: f64, deviations: Vec<f64>, method: Method) -> Result<Self> {
        check::at_least(2, deviations.len())?;
        if !value.is_finite() {
            return Err(Error::NonFinite { row: 0, column: 1 });
        }
        check::finite_scores(&deviations)?;
        Ok(Self {
            value,
            deviations,
            method,
        })
    }

    /// The jackknife of a mean of one value per sample: θ = x̄, δᵢ = (x̄ − xᵢ)/(n − 1), whose
    /// standard error is s/√n ([`Method::MeanOverSamples`]).
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite value.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let jk = Jackknife::of_mean(&[1.0, 2.0, 3.0, 4.0])?;
    /// assert_eq!(jk.value(), 2.5);
    /// let s = (5.0_f64 / 3.0).sqrt(); // sample standard deviation, ddof = 1
    /// assert!((jk.standard_error() - s / 2.0).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn of_mean(values: &[f64]) -> Result<Self> {
        check::at_least(2, values.len())?;
        check::finite_scores(values)?;
        let n = values.len() as f64;
        // The metrics' own chunked order, so a metric's jackknife has its value to the bit.
        let mean = crate::reduce::sum_over_rows(values.len(), |i| values[i]) / n;
        let deviations = values.iter().map(|x| (mean - x) / (n - 1.0)).collect();
        Self::from_deviations(mean, deviations, Method::MeanOverSamples)
    }

    /// The delete-one jackknife of any metric by brute force: `metric(keep)` on the kept
    /// sample indices (in increasing order), once on all n and once without each sample, in
    /// parallel. O(n) evaluations of the metric; the metrics of this crate that have a
    /// jackknife of their own compute the same deviations in one pass.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2, the first error the
    /// metric returns, and [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite
    /// result.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let x = [1.0, 2.0, 3.0, 4.0];
    /// let mean = |keep: &[usize]| Ok(keep.iter().map(|&i| x[i]).sum::<f64>() / keep.len() as f64);
    /// let brute = Jackknife::delete_one(4, mean)?;
    /// assert!((brute.standard_error() - Jackknife::of_mean(&x)?.standard_error()).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn delete_one(n: usize, metric: impl Fn(&[usize]) -> Result<f64> + Sync) -> Result<Self> {
        check::at_least(2, n)?;
        let groups: Vec<usize> = (0..n).collect();
        Self::by_groups(&groups, n, metric, Method::Jackknife)
    }

    /// The delete-a-group jackknife: `groups[i]` < g names the group of sample i, and the
    /// metric is recomputed without each group in turn ([`Method::GroupedJackknife`],
    /// dof = g − 1). Groups of (nearly) equal size give the standard formula its meaning;
    /// [`seeded_groups`](Self::seeded_groups) makes such groups.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for g < 2,
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for an empty group or a
    /// label ≥ g, the metric's errors, and [`Error::NonFinite`](crate::Error::NonFinite) for a
    /// non-finite result.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let mean = |keep: &[usize]| Ok(keep.iter().map(|&i| x[i]).sum::<f64>() / keep.len() as f64);
    /// let groups = Jackknife::seeded_groups(6, 3, 7)?;
    /// let jk = Jackknife::delete_groups(&groups, 3, mean)?;
    /// assert_eq!((jk.value(), jk.len()), (3.5, 3));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn delete_groups(
        groups: &[usize],
        g: usize,
        metric: impl Fn(&[usize]) -> Result<f64> + Sync,
    ) -> Result<Self> {
        check::at_least(2, g)?;
        check::labels("groups", groups.len(), g, groups)?;
        check::every_group_named("groups", g, groups, "such that no group is empty")?;
        Self::by_groups(groups, g, metric, Method::GroupedJackknife)
    }

    /// n sample labels in g groups whose sizes differ by at most one, shuffled by `seed`
    /// (the same seed gives the same groups on every machine).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 2 ≤ g ≤ n.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let groups = Jackknife::seeded_groups(10, 4, 1)?;
    /// let sizes: Vec<usize> = (0..4).map(|k| groups.iter().filter(|&&g| g == k).count()).collect();
    /// assert!(sizes.iter().all(|&s| s == 2 || s == 3));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn seeded_groups(n: usize, g: usize, seed: u64) -> Result<Vec<usize>> {
        check::count_within("g", g, 2, n, "between 2 and n")?;
        let mut labels: Vec<usize> = (0..n).map(|i| i % g).collect();
        labels.shuffle(&mut StdRng::seed_from_u64(seed));
        Ok(labels)
    }

    fn by_groups(
        groups: &[usize],
        g: usize,
        metric: impl Fn(&[usize]) -> Result<f64> + Sync,
        method: Method,
    ) -> Result<Self> {
        let [jackknife] = Self::by_groups_of(groups, g, |keep| Ok([metric(keep)?]), method)?;
        Ok(jackknife)
    }

    /// The jackknifes of K metrics computed together (one evaluation per left-out group gives
    /// all K), with valid labels `groups[i]` < g.
    pub(crate) fn by_groups_of<const K: usize>(
        groups: &[usize],
        g: usize,
        metric: impl Fn(&[usize]) -> Result<[f64; K]> + Sync,
        method: Method,
    ) -> Result<[Self; K]> {
        let all: Vec<usize> = (0..groups.len()).collect();
        let value = metric(&all)?;
        let left_out = par_map(0..g, &|k| {
            let keep: Vec<usize> = all.iter().copied().filter(|&i| groups[i] != k).collect();
            metric(&keep)
        });
        let left_out = left_out.into_iter().collect::<Result<Vec<[f64; K]>>>()?;
        let jackknifes = (0..K)
            .map(|c| {
                let deviations = left_out.iter().map(|v| v[c] - value[c]).collect();
                Self::from_deviations(value[c], deviations, method)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(jackknifes.try_into().expect("K jackknifes"))
    }

    /// θ, the metric on all samples.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// assert_eq!(Jackknife::of_mean(&[1.0, 3.0])?.value(), 2.0);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The number of samples (or groups) left out in turn.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// assert_eq!(Jackknife::of_mean(&[1.0, 3.0, 5.0])?.len(), 3);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty: at least two deviations
    pub fn len(&self) -> usize {
        self.deviations.len()
    }

    /// The deviations δᵢ = θ₋ᵢ − θ.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// assert_eq!(Jackknife::of_mean(&[1.0, 3.0])?.deviations(), &[1.0, -1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn deviations(&self) -> &[f64] {
        &self.deviations
    }

    /// The leave-one-out values θ₋ᵢ = θ + δᵢ.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let loo: Vec<f64> = Jackknife::of_mean(&[1.0, 3.0, 5.0])?.leave_one_out().collect();
    /// assert_eq!(loo, [4.0, 3.0, 2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn leave_one_out(&self) -> impl Iterator<Item = f64> + '_ {
        self.deviations.iter().map(|d| self.value + d)
    }

    /// The jackknife standard error √(((n − 1)/n) Σ (δᵢ − δ̄)²).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// // s/√n for a mean: s = 2, n = 3.
    /// assert!((Jackknife::of_mean(&[1.0, 3.0, 5.0])?.standard_error() - 2.0 / 3f64.sqrt()).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn standard_error(&self) -> f64 {
        let n = self.len() as f64;
        let mean = self.mean_deviation();
        let squares: f64 = self
            .deviations
            .iter()
            .map(|d| (d - mean) * (d - mean))
            .sum();
        ((n - 1.0) / n * squares).sqrt()
    }

    /// The bias-corrected value θ − (n − 1)·δ̄ (Quenouille): it removes the O(1/n) bias of a
    /// smooth function of means, such as the log of uniformity's mean.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// // A mean has no bias: the correction leaves it as it is.
    /// assert!((Jackknife::of_mean(&[1.0, 3.0, 8.0])?.bias_corrected() - 4.0).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn bias_corrected(&self) -> f64 {
        self.value - (self.len() as f64 - 1.0) * self.mean_deviation()
    }

    /// The value, the jackknife standard error and dof = n − 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let e = Jackknife::of_mean(&[1.0, 3.0, 5.0])?.estimate();
    /// assert_eq!((e.value, e.dof), (3.0, 2));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn estimate(&self) -> Estimate {
        Estimate {
            value: self.value,
            standard_error: self.standard_error(),
            dof: self.len() - 1,
            method: self.method,
        }
    }

    /// The paired jackknife of θ_self − θ_other, for two metrics measured on the same samples
    /// (two models on the same image–text pairs): the deviations are subtracted sample by
    /// sample, so what the two share cancels and the standard error is that of the
    /// difference, not of either.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) when the two left out a
    /// different number of samples (or groups);
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) when one left out groups and
    /// the other single samples; [`Error::Overflow`](crate::Error::Overflow) for a difference
    /// beyond `f64::MAX`. The samples must be the same, in the same order (and the groups the
    /// same groups): [`same_samples`](crate::stats::same_samples) checks their ids.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Jackknife;
    ///
    /// let a = Jackknife::of_mean(&[1.0, 2.0, 3.0, 4.0])?;
    /// let b = Jackknife::of_mean(&[1.1, 2.1, 3.1, 4.1])?;
    /// let d = a.difference(&b)?.estimate();
    /// // Every sample moved by the same 0.1: the difference is sure, though each mean is not.
    /// assert!((d.value + 0.1).abs() < 1e-15 && d.standard_error < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn difference(&self, other: &Self) -> Result<Self> {
        check::same_len(self.len(), other.len())?;
        let grouped = |m| m == Method::GroupedJackknife;
        if grouped(self.method) != grouped(other.method) {
            return Err(Error::InvalidParameter {
                name: "other",
                value: other.len() as f64,
                requirement: "left out the same units (a grouped and a delete-one jackknife do not pair)",
            });
        }
        let method = if self.method == other.method {
            self.method
        } else {
            Method::Jackknife
        };
        let value = check::no_overflow("the difference", self.value - other.value)?;
        let deviations = self
            .deviations
            .iter()
            .zip(&other.deviations)
            .map(|(a, b)| a - b)
            .collect();
        Self::from_deviations(value, deviations, method)
    }

    /// δ̄, the mean deviation.
    fn mean_deviation(&self) -> f64 {
        self.deviations.iter().sum::<f64>() / self.len() as f64
    }
}
