//! Mergeable, overflow- and underflow-safe log-sum-exp accumulators.

use super::exp::exp_expm1;
use super::lanes;

/// log Σ exp(zₖ) over `count` terms, kept as a shift m ≥ max zₖ and two shifted sums:
///
/// ```text
/// s = Σ exp(zₖ − m)        accurate when the terms are spread out
/// e = Σ expm1(zₖ − m)      accurate when they crowd near m (s ≈ count)
/// ```
///
/// With m = max zₖ ([`LogSumExp::of`]) nothing overflows and the largest term never
/// underflows, so the value is finite whenever one term is (Wang & Isola's literal
/// `log(mean(exp(·)))` gives −∞ once every exp underflows). A fixed shift
/// ([`LogSumExp::new`]) saves the pass for the maximum where every term is known to lie
/// within 700 below it.
/// The mean of a tight cluster, where log mean = log(1 − small), keeps its relative accuracy
/// through `ln_1p(e / count)`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct LogSumExp {
    shift: f64,
    sum: f64,
    excess: f64,
    count: u64,
}

impl LogSumExp {
    /// The accumulator of no terms: the identity of `merge`.
    pub(crate) const EMPTY: Self = Self {
        shift: f64::NEG_INFINITY,
        sum: 0.0,
        excess: 0.0,
        count: 0,
    };

    /// The terms `z`, shifted by their maximum; `exps` and `excesses` are scratch space as
    /// long as `z`. Terms more than 708 below the maximum count as 0 (they weigh less than
    /// e^(−708) of it).
    #[inline(always)]
    pub(crate) fn of(z: &[f64], exps: &mut [f64], excesses: &mut [f64]) -> Self {
        let max = lanes::max(z);
        if max == f64::NEG_INFINITY {
            return Self::EMPTY;
        }
        for ((e, x), &z) in exps.iter_mut().zip(&mut *excesses).zip(z) {
            (*e, *x) = exp_expm1(z - max);
        }
        Self::new(max, lanes::sum(exps), lanes::sum(excesses), z.len() as u64)
    }

    /// The accumulator of `count` terms zₖ given as `sum` = Σ exp(zₖ − `shift`) and `excess`
    /// = Σ expm1(zₖ − `shift`), every zₖ ≤ `shift`.
    #[inline(always)]
    pub(crate) fn new(shift: f64, sum: f64, excess: f64, count: u64) -> Self {
        Self {
            shift,
            sum,
            excess,
            count,
        }
    }

    /// The parts' terms together, added in order to the empty sum.
    pub(crate) fn sum_of(parts: impl IntoIterator<Item = Self>) -> Self {
        let mut total = Self::EMPTY;
        for part in parts {
            total.merge(part);
        }
        total
    }

    /// Adds the terms of `other`.
    pub(crate) fn merge(&mut self, other: Self) {
        let (hi, lo) = if self.shift >= other.shift {
            (*self, other)
        } else {
            (other, *self)
        };
        *self = if lo.count == 0 {
            hi
        } else if lo.shift == hi.shift {
            Self {
                shift: hi.shift,
                sum: hi.sum + lo.sum,
                excess: hi.excess + lo.excess,
                count: hi.count + lo.count,
            }
        } else {
            // Re-base lo's terms onto hi's shift: exp(z − hi.shift) = exp(z − lo.shift)·(1 + g).
            let g = (lo.shift - hi.shift).exp_m1();
            Self {
                shift: hi.shift,
                sum: hi.sum + lo.sum * (1.0 + g),
                excess: hi.excess + (lo.excess + lo.count as f64 * g + lo.excess * g),
                count: hi.count + lo.count,
            }
        };
    }

    /// The shift m (the largest term, when each part was shifted by its maximum).
    pub(crate) fn shift(self) -> f64 {
        self.shift
    }

    /// The number of terms.
    pub(crate) fn count(self) -> u64 {
        self.count
    }

    /// (Σ exp(zₖ − m), Σ expm1(zₖ − m)).
    pub(crate) fn sums(self) -> (f64, f64) {
        (self.sum, self.excess)
    }

    /// log((1/count) Σ exp(zₖ)), from whichever shifted sum is accurate.
    pub(crate) fn log_mean(self) -> f64 {
        let count = self.count as f64;
        let mean = self.sum / count;
        if mean < 0.5 {
            self.shift + mean.ln()
        } else {
            self.shift + (self.excess / count).ln_1p()
        }
    }
}

/// log Σ exp(zₖ) kept online as (m, Σ exp(zₖ − m)), m the largest shift seen: the
/// flash-attention form of the cross-entropies, where each row and each column gathers
/// partial sums block by block.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct OnlineLogSumExp {
    max: f64,
    sum: f64,
}

impl OnlineLogSumExp {
    /// No terms yet: log Σ = −∞.
    pub(crate) const EMPTY: Self = Self {
        max: f64::NEG_INFINITY,
        sum: 0.0,
    };

    /// Adds terms given as `sum` = Σ exp(zₖ − `max`); one exponential unless the shifts agree.
    #[inline(always)]
    pub(crate) fn add(&mut self, max: f64, sum: f64) {
        if max == self.max {
            self.sum += sum;
        } else if max > self.max {
            self.sum = self.sum * (self.max - max).exp() + sum;
            self.max = max;
        } else {
            self.sum += sum * (max - self.max).exp();
        }
    }

    /// Merges another accumulator's terms.
    pub(crate) fn merge(&mut self, other: Self) {
        self.add(other.max, other.sum);
    }

    /// log Σ exp(zₖ).
    pub(crate) fn value(self) -> f64 {
        self.max + self.sum.ln()
    }

    /// (m, Σ exp(zₖ − m)).
    pub(crate) fn shift_and_sum(self) -> (f64, f64) {
        (self.max, self.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::{LogSumExp, OnlineLogSumExp};

    fn of(z: &[f64]) -> LogSumExp {
        let (mut e, mut x) = (vec![0.0; z.len()], vec![0.0; z.len()]);
        LogSumExp::of(z, &mut e, &mut x)
    }

    /// log Σ exp(zₖ) of an accumulator, from its log-mean.
    fn sum_of(x: LogSumExp) -> f64 {
        x.log_mean() + (x.count as f64).ln()
    }

    /// The accumulator of both term lists.
    fn both(mut a: LogSumExp, b: LogSumExp) -> LogSumExp {
        a.merge(b);
        a
    }

    fn online(z: &[f64]) -> f64 {
        let mut acc = OnlineLogSumExp::EMPTY;
        for &v in z {
            acc.add(v, 1.0);
        }
        acc.value()
    }

    fn naive(z: &[f64]) -> f64 {
        z.iter().map(|v| v.exp()).sum::<f64>().ln()
    }

    #[test]
    fn matches_the_naive_formula_where_it_is_finite() {
        let z = [-1.5, 0.25, 3.0, -0.75, 2.0];
        assert!((online(&z) - naive(&z)).abs() < 1e-15);
        assert!((sum_of(of(&z)) - naive(&z)).abs() < 1e-14);
    }

    #[test]
    fn merging_parts_equals_the_whole_in_any_split() {
        let z = [-3.0, 7.5, 0.0, -1e3, 2.25, 7.5, -0.5];
        let whole = online(&z);
        for split in 0..=z.len() {
            let (left, right) = z.split_at(split);
            let merged = sum_of(both(of(left), of(right)));
            assert!(
                (merged - whole).abs() < 1e-14,
                "split {split}: {merged} vs {whole}"
            );
            let reversed = sum_of(both(of(right), of(left)));
            assert!((reversed - whole).abs() < 1e-14, "split {split} reversed");
            let mut parts = OnlineLogSumExp::EMPTY;
            parts.merge(OnlineLogSumExp {
                max: 7.5,
                sum: right.iter().map(|v| (v - 7.5).exp()).sum(),
            });
            parts.add(2.0, left.iter().map(|v| (v - 2.0).exp()).sum());
            assert!(
                (parts.value() - whole).abs() < 1e-14,
                "online split {split}"
            );
        }
    }

    #[test]
    fn stays_finite_where_every_exponential_underflows_or_overflows() {
        // exp(−3600) underflows and exp(800) overflows in f64; the value does not.
        let low = online(&[-3600.0, -3600.0]);
        assert!((low - (-3600.0 + 2f64.ln())).abs() < 1e-12);
        assert!((sum_of(of(&[-3600.0, -3600.0])) - low).abs() < 1e-12);
        let high = online(&[800.0, 799.0]);
        assert!((high - (800.0 + (1.0 + (-1f64).exp()).ln())).abs() < 1e-12);
        assert!((sum_of(of(&[800.0, 799.0])) - high).abs() < 1e-12);
    }

    #[test]
    fn the_log_mean_of_a_tight_cluster_keeps_its_relative_accuracy() {
        // Terms −1e-9·k: log mean = log(1 − ~1e-9·(n−1)/2) to full relative precision.
        let z: Vec<f64> = (0..1000).map(|k| -1e-9 * k as f64).collect();
        let exact: f64 = (z.iter().map(|v| v.exp_m1()).sum::<f64>() / 1000.0).ln_1p();
        let whole = of(&z).log_mean();
        assert!(
            (whole - exact).abs() <= 1e-15 * exact.abs(),
            "{whole} vs {exact}"
        );
        let (left, right) = z.split_at(337);
        let merged = both(of(right), of(left)).log_mean();
        assert!(
            (merged - exact).abs() <= 1e-14 * exact.abs(),
            "{merged} vs {exact}"
        );
        // The plain form loses about 1e-7 of it: log(mean) near 1 cancels.
        let plain = online(&z) - 1000f64.ln();
        assert!((plain - exact).abs() > 1e-12 * exact.abs());
    }

    #[test]
    fn the_log_mean_of_spread_terms_uses_the_plain_sum() {
        let z = [0.0, -50.0, -60.0, -700.0];
        let exact = ((1.0 + (-50f64).exp() + (-60f64).exp() + (-700f64).exp()) / 4.0).ln();
        assert!((of(&z).log_mean() - exact).abs() < 1e-15);
    }

    #[test]
    fn the_empty_sum_is_the_identity_of_merge() {
        assert_eq!(online(&[]), f64::NEG_INFINITY);
        assert_eq!(of(&[]).count, 0);
        let x = of(&[1.0, 2.0]);
        assert_eq!(both(LogSumExp::EMPTY, x).log_mean(), x.log_mean());
        assert_eq!(both(x, LogSumExp::EMPTY).log_mean(), x.log_mean());
    }
}
