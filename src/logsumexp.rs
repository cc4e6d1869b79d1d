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
