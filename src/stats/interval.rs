//! Confidence intervals of a mean from a few values (seeds, runs).

use crate::student_t::t_quantile;
use crate::{Result, check};

/// A mean with its confidence interval: mean ± half-width.
///
/// # Examples
///
/// ```
/// use modality_gap::stats::ConfidenceInterval;
///
/// let ci = ConfidenceInterval { mean: 1.0, half_width: 0.25, std: 0.2, n: 3 };
/// assert_eq!((ci.lower(), ci.upper()), (0.75, 1.25));
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    /// The sample mean x̄.
    pub mean: f64,
    /// t_{(1+level)/2, n−1} · s/√n.
    pub half_width: f64,
    /// The sample standard deviation s (ddof = 1, divisor n − 1).
    pub std: f64,
    /// The number of values.
    pub n: usize,
}

impl ConfidenceInterval {
    /// The lower end, mean − half-width.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::confidence_interval;
    ///
    /// assert_eq!(confidence_interval(&[1.0, 1.0], 0.95)?.lower(), 1.0);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn lower(&self) -> f64 {
        self.mean - self.half_width
    }

    /// The upper end, mean + half-width.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::confidence_interval;
    ///
    /// assert_eq!(confidence_interval(&[1.0, 1.0], 0.95)?.upper(), 1.0);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn upper(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The paper's "mean ± 95% confidence interval over seeds": the two-sided Student-t interval
/// of the mean of `values` at confidence `level`.
///
/// ```text
/// x̄ = (1/n) Σ xᵢ,   s² = Σ (xᵢ − x̄)² / (n − 1),   half-width = t_{(1+level)/2, n−1} · s/√n
/// ```
///
/// The standard deviation uses the divisor n − 1 (numpy `ddof=1`); the paper's notebook
/// prints `np.std` with ddof = 0 beside the interval. The mean is x₀ + (1/n) Σ (xᵢ − x₀) and
/// s is computed from the deviations from x̄ (two passes), so constant inputs give x̄ = x₀ and
/// s = 0 exactly. Values beyond 2²⁵⁶ in magnitude, or all below 2⁻²⁵⁶, are first scaled by
/// 2⁻⁶⁰⁰ or 2⁶⁰⁰ (exact), so neither the sums nor the squares overflow or underflow: a mean
/// and standard deviation that fit in f64 are returned. The quantile is taken on the lower
/// tail, t_{(1+level)/2} = −t_q with q = (1 − level)/2 > 0 for every level < 1 (1 − level is
/// exact for level ≥ ½), so levels within an ulp of 1, where (1 + level)/2 would round to 1,
/// keep their meaning.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2, [`Error::NonFinite`](crate::Error::NonFinite) for a NaN or infinite value (its
/// index as `row`, column 0), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 0 < level < 1,
/// [`Error::Overflow`](crate::Error::Overflow) when the standard deviation or the half-width exceeds `f64::MAX`
/// (values spread over more than about 1e308, or a half-width t·s/√n beyond it).
///
/// # Examples
///
/// ```
/// use modality_gap::stats::confidence_interval;
///
/// // The paper's amended-loss gap at initialisation over three seeds: 0.0388 ± 0.0351.
/// let ci = confidence_interval(&[0.0314, 0.0551, 0.0299], 0.95)?;
/// assert!((ci.mean - 0.0388).abs() < 1e-12 && (ci.half_width - 0.0351).abs() < 1e-4);
/// // A spread beyond f64's range is an error, not an infinite interval.
/// assert!(confidence_interval(&[1e308, -1.7e308], 0.95).is_err());
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.4; `util/gap_amend_std.ipynb` cell 1 in
/// Weixin-Liang/Modality-Gap.
pub fn confidence_interval(values: &[f64], level: f64) -> Result<ConfidenceInterval> {
    check::open_unit_interval("level", level)?;
    let n = values.len();
    check::at_least(2, n)?;
    check::finite_scores(values)?;
    // An exact power of two brings the largest |xᵢ| into [2⁻⁴⁷⁴, 2⁴²⁴]: sums, differences and
    // squares of up to 2⁶⁰ values stay finite, and deviations of the order of the largest
    // value have normal squares.
    let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let scale = if largest > SCALE_ABOVE {
        SCALE_DOWN
    } else if largest < SCALE_ABOVE.recip() {
        SCALE_DOWN.recip()
    } else {
        1.0
    };
    let first = values[0] * scale;
    let shifted: f64 = values.iter().map(|v| v * scale - first).sum();
    let mean = first + shifted / n as f64;
    let squares: f64 = values
        .iter()
        .map(|v| (v * scale - mean) * (v * scale - mean))
        .sum();
    let std = check::no_overflow(
        "standard deviation",
        (squares / (n - 1) as f64).sqrt() / scale,
    )?;
    let t = -t_quantile(0.5 * (1.0 - level), n - 1)?;
    Ok(ConfidenceInterval {
        mean: check::no_overflow("mean", mean / scale)?,
        half_width: check::no_overflow("confidence half-width", t * std / (n as f64).sqrt())?,
        std,
        n,
    })
}

/// Magnitudes beyond 2²⁵⁶ (or all below 2⁻²⁵⁶) are scaled by [`SCALE_DOWN`] (or its inverse).
const SCALE_ABOVE: f64 = 1.157_920_892_373_162e77; // 2²⁵⁶

/// 2⁻⁶⁰⁰, exact.
const SCALE_DOWN: f64 = 2.409_919_865_102_884e-181;
