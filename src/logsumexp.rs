//! A mergeable, overflow- and underflow-safe log-sum-exp accumulator.

/// log Σ exp(zₖ) kept as (m, s) with the value m + ln s, where m is the largest z seen and
/// s = Σ exp(zₖ − m) ∈ [1, count]. Nothing overflows and the largest term never underflows,
/// so the value is finite whenever one term is (Wang & Isola's literal
/// `log(mean(exp(·)))` gives −∞ once every exp underflows).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogSumExp {
    max: f64,
    scaled_sum: f64,
}

impl LogSumExp {
    /// The sum of no terms (value −∞).
    pub(crate) const EMPTY: Self = Self {
        max: f64::NEG_INFINITY,
        scaled_sum: 0.0,
    };

    /// Two passes over `z`: the maximum, then the shifted sum.
    pub(crate) fn of(z: &[f64]) -> Self {
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return Self::EMPTY;
        }
        let scaled_sum = z.iter().map(|&v| (v - max).exp()).sum();
        Self { max, scaled_sum }
    }

    /// The accumulator of both term lists.
    pub(crate) fn merge(self, other: Self) -> Self {
        let (hi, lo) = if self.max >= other.max {
            (self, other)
        } else {
            (other, self)
        };
        if lo.scaled_sum == 0.0 {
            return hi;
        }
        Self {
            max: hi.max,
            scaled_sum: hi.scaled_sum + lo.scaled_sum * (lo.max - hi.max).exp(),
        }
    }

    /// log Σ exp(zₖ).
    pub(crate) fn value(self) -> f64 {
        self.max + self.scaled_sum.ln()
    }
}

#[cfg(test)]
mod tests {
    use super::LogSumExp;

    fn naive(z: &[f64]) -> f64 {
        z.iter().map(|v| v.exp()).sum::<f64>().ln()
    }

    #[test]
    fn matches_the_naive_formula_where_it_is_finite() {
        let z = [-1.5, 0.25, 3.0, -0.75, 2.0];
        assert!((LogSumExp::of(&z).value() - naive(&z)).abs() < 1e-15);
    }

    #[test]
    fn merging_parts_equals_the_whole_in_any_split() {
        let z = [-3.0, 7.5, 0.0, -1e3, 2.25, 7.5, -0.5];
        let whole = LogSumExp::of(&z).value();
        for split in 0..=z.len() {
            let (left, right) = z.split_at(split);
            let merged = LogSumExp::of(left).merge(LogSumExp::of(right)).value();
            assert!(
                (merged - whole).abs() < 1e-14,
                "split {split}: {merged} vs {whole}"
            );
            let reversed = LogSumExp::of(right).merge(LogSumExp::of(left)).value();
            assert!((reversed - whole).abs() < 1e-14, "split {split} reversed");
        }
    }

    #[test]
    fn stays_finite_where_every_exponential_underflows_or_overflows() {
        // exp(−3600) underflows and exp(800) overflows in f64; the value does not.
        let low = LogSumExp::of(&[-3600.0, -3600.0]).value();
        assert!((low - (-3600.0 + 2f64.ln())).abs() < 1e-12);
        let high = LogSumExp::of(&[800.0, 799.0]).value();
        assert!((high - (800.0 + (1.0 + (-1f64).exp()).ln())).abs() < 1e-12);
    }

    #[test]
    fn the_empty_sum_is_the_identity_of_merge() {
        assert_eq!(LogSumExp::EMPTY.value(), f64::NEG_INFINITY);
        assert_eq!(LogSumExp::of(&[]).value(), f64::NEG_INFINITY);
        let x = LogSumExp::of(&[1.0, 2.0]);
        assert_eq!(LogSumExp::EMPTY.merge(x).value(), x.value());
        assert_eq!(x.merge(LogSumExp::EMPTY).value(), x.value());
    }
}
