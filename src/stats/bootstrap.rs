//! The nonparametric bootstrap of any metric: its standard error, percentile and BCa
//! intervals.

use rand::RngExt;
use rand::rngs::StdRng;

use super::resample::replicate;
use crate::student_t::{t_cdf, t_quantile};
use crate::{Estimate, Interval, Jackknife, Method, Result, check};

/// The bootstrap of a metric: its value θ on all n samples and its values θ*₁ … θ*_B on B
/// resamples of n samples drawn with replacement, from [`bootstrap`].
///
/// ```text
/// standard error:  √( Σ_b (θ*_b − θ̄*)² / (B − 1) ),   θ̄* = (1/B) Σ_b θ*_b
/// percentile:      [Q(α), Q(1 − α)],                   α = (1 − level)/2
/// Q(p) = θ*₍ⱼ₎ + (h − j)(θ*₍ⱼ₊₁₎ − θ*₍ⱼ₎),  h = (B − 1)·p,  j = ⌊h⌋   (θ*₍₀₎ ≤ … ≤ θ*₍B−1₎)
/// ```
///
/// Q is the linear interpolation between order statistics of numpy's default `np.quantile`
/// (R's type 7). [`bca`](Self::bca) corrects the percentile interval for bias and skewness.
///
/// # Examples
///
/// ```
/// use modality_gap::stats::bootstrap;
///
/// let x = [2.1, 0.4, 1.7, 3.3, 0.9, 1.2, 2.8, 0.6, 1.9, 1.5];
/// let mean = |rows: &[usize]| Ok(rows.iter().map(|&i| x[i]).sum::<f64>() / rows.len() as f64);
/// let boot = bootstrap(x.len(), 2000, 7, mean)?;
/// assert_eq!(boot.value(), 1.64);
/// assert_eq!(boot.replicates().len(), 2000);
/// let ci = boot.percentile(0.95)?;
/// assert!(ci.lower < 1.64 && 1.64 < ci.upper);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// B. Efron, R. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall 1993, ch. 6
/// (the standard error), ch. 13 (percentile intervals), ch. 14 (BCa). Code: scipy/scipy,
/// `scipy/stats/_resampling.py` (`bootstrap`, `_bca_interval`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    n: usize,
    value: f64,
    replicates: Vec<f64>,
    standard_error: f64,
}

/// The nonparametric bootstrap of any metric of n samples: `metric(rows)` once on all rows
/// (0, 1, …, n − 1) and once on each of `resamples` lists of n rows drawn uniformly with
/// replacement, in parallel.
///
/// ```text
/// resample b:  rows i₁ ≤ i₂ ≤ … ≤ iₙ,  each drawn uniformly from 0 … n − 1
/// θ*_b = metric(resample b)
/// ```
///
/// The rows of a resample come sorted (each row repeated as often as it was drawn), and a row
/// drawn twice is there twice: pass them to [`Embeddings::select`](crate::Embeddings::select)
/// to build the resampled sets (the same rows of both sets of a pair). Resample b is drawn
/// from its own generator, seeded from (`seed`, b), and the replicates are kept in the order
/// of b: the same seed gives the same [`Bootstrap`] for any number of threads (run it in a
/// `rayon` pool to choose them).
///
/// When it is valid: for smooth functions of means (a mean over samples, a ratio of means,
/// CKA, a centroid distance), where the resampled rows stand for fresh samples. It is *not*
/// valid for the k-nearest-neighbour metrics ([`mutual_knn`](crate::mutual_knn),
/// [`cknna`](crate::cknna)): a row drawn twice is its own nearest neighbour at distance 0,
/// which no fresh sample would be; use their grouped jackknife
/// ([`jackknife::mutual_knn`](crate::jackknife::mutual_knn)). Nor for a statistic at the edge
/// of its range (a maximum, a recall of 1). `docs/uncertainty.md` in the repository gives the
/// coverage measured by simulation.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer than 2 resamples,
/// the metric's errors (on all rows first, then that of the first resample that failed), and
/// [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite value: on all rows at
/// row 0, column 1, of resample b at row b, column 0. [`Error::Overflow`](crate::Error::Overflow)
/// when the replicates' spread exceeds `f64::MAX`.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, HsicEstimator, Image, Text, cka, stats::bootstrap};
///
/// let a = Embeddings::<f64, Image>::from_rows(&[
///     [1.0, 0.2], [0.3, 1.1], [-0.8, 0.5], [0.1, -1.2], [1.4, 0.9], [-0.5, -0.4], [0.7, -0.6], [-1.1, 1.3],
/// ])?;
/// let b = Embeddings::<f64, Text>::from_rows(&[
///     [0.9, 0.1, 0.3], [0.4, 1.0, -0.2], [-0.7, 0.6, 0.1], [0.2, -1.0, 0.4], [1.2, 1.0, 0.0], [-0.6, -0.3, -0.2], [0.8, -0.5, 0.2], [-1.0, 1.2, -0.1],
/// ])?;
/// let cka_of = |rows: &[usize]| cka(&a.select(rows)?, &b.select(rows)?, HsicEstimator::Biased);
/// let boot = bootstrap(a.len(), 500, 1, cka_of)?;
/// let se = boot.estimate().standard_error;
/// assert_eq!(boot.value(), cka(&a, &b, HsicEstimator::Biased)?);
/// assert!(se > 0.0 && se < 0.2);
/// // The same seed, the same replicates.
/// assert_eq!(bootstrap(a.len(), 500, 1, cka_of)?, boot);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// B. Efron, "Bootstrap Methods: Another Look at the Jackknife", Annals of Statistics 7
/// (1979); Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 6. Code:
/// scipy/scipy, `scipy/stats/_resampling.py` (`bootstrap`).
pub fn bootstrap(
    n: usize,
    resamples: usize,
    seed: u64,
    metric: impl Fn(&[usize]) -> Result<f64> + Sync,
) -> Result<Bootstrap> {
    let run = replicate(
        n,
        ("resamples", resamples),
        seed,
        |rng| resample(n, rng),
        metric,
    )?;
    Ok(Bootstrap {
        n,
        value: run.value,
        replicates: run.replicates,
        standard_error: run.sd,
    })
}

/// n rows drawn uniformly with replacement, sorted: each row as often as it was drawn.
fn resample(n: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut counts = vec![0_usize; n];
    for _ in 0..n {
        counts[rng.random_range(0..n)] += 1;
    }
    counts
        .iter()
        .enumerate()
        .flat_map(|(i, &c)| std::iter::repeat_n(i, c))
        .collect()
}

impl Bootstrap {
    /// θ, the metric on all samples.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::bootstrap;
    ///
    /// let boot = bootstrap(3, 10, 0, |rows| Ok(rows.iter().sum::<usize>() as f64))?;
    /// assert_eq!(boot.value(), 3.0); // 0 + 1 + 2
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The replicates θ*_b, in the order of b (resample b drawn from seed and b).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::bootstrap;
    ///
    /// // Each resample of 3 rows from {0, 1, 2} sums to between 0 and 6.
    /// let boot = bootstrap(3, 100, 0, |rows| Ok(rows.iter().sum::<usize>() as f64))?;
    /// assert!(boot.replicates().iter().all(|&v| (0.0..=6.0).contains(&v)));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn replicates(&self) -> &[f64] {
        &self.replicates
    }

    /// The value, the bootstrap standard error (the replicates' standard deviation, divisor
    /// B − 1), dof = n − 1 and [`Method::Bootstrap`]: its [`interval`](Estimate::interval) is
    /// the normal-theory interval θ ± t·SE.
    ///
    /// ```text
    /// SE = √( Σ_b (θ*_b − θ̄*)² / (B − 1) )
    /// ```
    ///
    /// For a mean, SE tends to σ̂/√n as B grows, σ̂ = √((n − 1)/n)·s the plug-in standard
    /// deviation: the bootstrap's standard error of a mean is s/√n times √((n − 1)/n).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Method, stats::bootstrap};
    ///
    /// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    /// let mean = |rows: &[usize]| Ok(rows.iter().map(|&i| x[i]).sum::<f64>() / rows.len() as f64);
    /// let e = bootstrap(8, 20_000, 3, mean)?.estimate();
    /// // σ̂/√n = √(5.25/8) = 0.8101; 20 000 resamples estimate it within about 1 %.
    /// assert!((e.standard_error / (5.25_f64 / 8.0).sqrt() - 1.0).abs() < 0.03);
    /// assert_eq!((e.dof, e.method), (7, Method::Bootstrap));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn estimate(&self) -> Estimate {
        Estimate {
            value: self.value,
            standard_error: self.standard_error,
            dof: self.n - 1,
            method: Method::Bootstrap,
        }
    }

    /// The percentile interval [Q(α), Q(1 − α)], α = (1 − level)/2, Q the replicates'
    /// quantile (see [`Bootstrap`]).
    ///
    /// Valid where a monotone transformation makes the metric's distribution normal with a
    /// constant variance; it neither corrects bias nor skewness ([`bca`](Self::bca) does).
    /// With fewer than about 1/α replicates the ends are the smallest and largest replicate;
    /// 1000 or more are usual for 95 %.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 < level < 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::bootstrap;
    ///
    /// // Resample sums of {0, 1, 2} (three draws) lie in [0, 6].
    /// let boot = bootstrap(3, 1000, 5, |rows| Ok(rows.iter().sum::<usize>() as f64))?;
    /// let ci = boot.percentile(0.9)?;
    /// assert!(ci.lower >= 0.0 && ci.lower <= 3.0 && ci.upper >= 3.0 && ci.upper <= 6.0);
    /// assert!(boot.percentile(1.0).is_err());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn percentile(&self, level: f64) -> Result<Interval> {
        let alpha = 0.5 * (1.0 - check::open_unit_interval("level", level)?);
        Ok(self.quantiles(alpha, 1.0 - alpha, level))
    }

    /// The bias-corrected and accelerated (BCa) interval of Efron (1987): the percentile
    /// interval at orders moved by the bias correction z₀ and the acceleration a.
    ///
    /// ```text
    /// z₀ = Φ⁻¹( (#{b: θ*_b < θ} + ½ #{b: θ*_b = θ}) / B )
    /// uᵢ = δ̄ − δᵢ = θ̄₍·₎ − θ₍ᵢ₎          (δᵢ = θ₍ᵢ₎ − θ: the jackknife's deviations)
    /// a  = Σᵢ uᵢ³ / (6 (Σᵢ uᵢ²)^{3/2})
    /// α₁ = Φ( z₀ + (z₀ + z_α) / (1 − a (z₀ + z_α)) ),   α₂ the same with z_{1−α}
    /// interval: [Q(α₁), Q(α₂)],   α = (1 − level)/2,  z_p = Φ⁻¹(p)
    /// ```
    ///
    /// `jackknife` is the delete-one jackknife of the same metric on the same n samples
    /// ([`Jackknife::delete_one`] with the same closure, or the metric's own in
    /// [`jackknife`](crate::jackknife)). Efron & Tibshirani write uᵢ = θ̄₍·₎ − θ₍ᵢ₎ (Eq. 14.15);
    /// the jackknife keeps δᵢ = θ₍ᵢ₎ − θ, so uᵢ = δ̄ − δᵢ, computed from the deviations without
    /// cancellation. A metric whose leave-one-out values are all equal has a = 0. Ties with θ
    /// count half in z₀, as scipy does (for a continuous metric they do not occur). Φ and Φ⁻¹
    /// are [`t_cdf`] and [`t_quantile`] at dof = `usize::MAX`, the normal distribution to
    /// about 1e-14. BCa's coverage error is O(1/n) for both ends, the percentile interval's
    /// O(1/√n) for each.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 < level < 1, when
    /// θ is below or above every replicate (z₀ infinite) or when 1 − a(z₀ + z_α) ≤ 0 (an
    /// acceleration too large for the formula); [`Error::LengthMismatch`](crate::Error::LengthMismatch)
    /// when the jackknife did not leave out each of the n samples once.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Jackknife, stats::bootstrap};
    ///
    /// // A skewed sample: BCa moves the interval up, towards the long tail.
    /// let x = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.4, 2.6, 4.0, 0.3];
    /// let mean = |rows: &[usize]| Ok(rows.iter().map(|&i| x[i]).sum::<f64>() / rows.len() as f64);
    /// let boot = bootstrap(x.len(), 4000, 11, mean)?;
    /// let jk = Jackknife::delete_one(x.len(), mean)?;
    /// let (pct, bca) = (boot.percentile(0.95)?, boot.bca(0.95, &jk)?);
    /// assert!(bca.lower > pct.lower && bca.upper > pct.upper);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// B. Efron, "Better Bootstrap Confidence Intervals", JASA 82 (1987); Efron & Tibshirani,
    /// *An Introduction to the Bootstrap*, 1993, ch. 14, Eqs. 14.10, 14.14, 14.15. Code:
    /// scipy/scipy, `scipy/stats/_resampling.py` (`_bca_interval`, `_percentile_of_score`).
    pub fn bca(&self, level: f64, jackknife: &Jackknife) -> Result<Interval> {
        let alpha = 0.5 * (1.0 - check::open_unit_interval("level", level)?);
        check::same_len(self.n, jackknife.len())?;
        let below = self.replicates.iter().filter(|&&v| v < self.value).count();
        let ties = self.replicates.iter().filter(|&&v| v == self.value).count();
        let fraction = (below as f64 + 0.5 * ties as f64) / self.replicates.len() as f64;
        check::open_unit_interval("the fraction of replicates below the value", fraction)?;
        let z0 = normal_quantile(fraction)?;
        let a = acceleration(jackknife.deviations());
        let order = |p: f64| -> Result<f64> {
            let z = z0 + normal_quantile(p)?;
            let denominator = check::positive("1 − a·(z₀ + z_α)", 1.0 - a * z)?;
            t_cdf(z0 + z / denominator, usize::MAX)
        };
        Ok(self.quantiles(order(alpha)?, order(1.0 - alpha)?, level))
    }

    /// [Q(low), Q(high)] of the sorted replicates, at confidence `level`.
    fn quantiles(&self, low: f64, high: f64, level: f64) -> Interval {
        let mut sorted = self.replicates.clone();
        sorted.sort_by(f64::total_cmp);
        Interval {
            lower: quantile(&sorted, low),
            upper: quantile(&sorted, high),
            level,
        }
    }
}

/// Φ⁻¹(p): Student's t quantile at dof = `usize::MAX`, the normal one to about 1e-14.
fn normal_quantile(p: f64) -> Result<f64> {
    t_quantile(p, usize::MAX)
}

/// Efron's acceleration from the jackknife deviations δᵢ: uᵢ = δ̄ − δᵢ,
/// a = Σ uᵢ³ / (6 (Σ uᵢ²)^{3/2}); 0 when every uᵢ is 0.
fn acceleration(deviations: &[f64]) -> f64 {
    let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
    let (squares, cubes) = deviations.iter().fold((0.0, 0.0), |(s, c), d| {
        let u = mean - d;
        (s + u * u, c + u * u * u)
    });
    if squares == 0.0 {
        0.0
    } else {
        cubes / (6.0 * squares * squares.sqrt())
    }
}

/// The p-quantile (0 ≤ p ≤ 1) of sorted values by linear interpolation between order
/// statistics, h = (m − 1)·p (numpy's default).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let (j, fraction) = (h.floor() as usize, h.fract());
    match sorted.get(j + 1) {
        Some(&next) if fraction > 0.0 => sorted[j] * (1.0 - fraction) + next * fraction,
        _ => sorted[j],
    }
}
