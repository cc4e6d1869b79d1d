//! What a chunk of random pairs leaves behind: mergeable first and second moments of its
//! values, and of the shifted Gaussian potentials of uniformity.

use crate::{Estimate, Method, Result, check};

/// What the values of some pairs reduce to, merged chunk by chunk in a fixed order.
pub(super) trait Summary: Send + Sized {
    /// The summary of no values: the identity of [`merge`](Summary::merge).
    const EMPTY: Self;

    /// The summary of one chunk's values (the buffer may be overwritten).
    fn of(values: &mut [f64]) -> Self;

    /// Adds the values of `later` (the next chunks in order).
    fn merge(&mut self, later: Self);

    /// The estimate from the values so far, with its standard error.
    fn estimate(&self) -> Result<Estimate>;
}

/// The count, mean and sum of squared deviations M₂ = Σ (vₖ − v̄)² of some values, merged
/// by the pairwise update of Chan, Golub & LeVeque (no cancellation between Σ v² and (Σ v)²).
#[derive(Debug, Clone, Copy)]
pub(super) struct Moments {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// s/√B, with s² = M₂/(B − 1) (0 for B < 2).
    fn standard_error(&self) -> f64 {
        let b = self.count as f64;
        if self.count < 2 {
            return 0.0;
        }
        (self.m2 / (b - 1.0) / b).sqrt()
    }

    /// The mean of the values and s/√B, unclamped.
    pub(super) fn mean_estimate(&self) -> Estimate {
        self.estimate_of(self.mean, self.standard_error())
    }

    /// An estimate of `value` with this standard error, dof = B − 1.
    fn estimate_of(&self, value: f64, standard_error: f64) -> Estimate {
        Estimate {
            value,
            standard_error,
            dof: usize::try_from(self.count.saturating_sub(1)).unwrap_or(usize::MAX),
            method: Method::Subsample,
        }
    }
}

impl Summary for Moments {
    const EMPTY: Self = Self {
        count: 0,
        mean: 0.0,
        m2: 0.0,
    };

    fn of(values: &mut [f64]) -> Self {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        Self {
            count: values.len() as u64,
            mean,
            m2,
        }
    }

    fn merge(&mut self, later: Self) {
        if self.count == 0 {
            *self = later;
            return;
        }
        let (na, nb) = (self.count as f64, later.count as f64);
        let n = na + nb;
        let delta = later.mean - self.mean;
        *self = Self {
            count: self.count + later.count,
            mean: self.mean + delta * (nb / n),
            m2: self.m2 + later.m2 + delta * delta * (na * nb / n),
        };
    }

    /// The mean of the values (cosines: clamped to [−1, 1], as the exact cone is).
    fn estimate(&self) -> Result<Estimate> {
        Ok(self.estimate_of(self.mean.clamp(-1.0, 1.0), self.standard_error()))
    }
}

/// The Gaussian potentials wₖ = exp(zₖ) of some pairs, zₖ = −t‖xᵢ − xⱼ‖², kept as a shift
/// m = max zₖ and the moments of the excesses eₖ = expm1(zₖ − m) = exp(zₖ − m) − 1:
///
/// ```text
/// log mean w = m + log1p(ē)         SE(log mean w) = SE(ē) / (1 + ē)   (delta method)
/// ```
///
/// The shift keeps the largest term at exp(0) = 1, so nothing underflows to log 0 however
/// large t is; the excesses keep their relative precision when every pair is close
/// (ē ≈ −t·mean‖xᵢ − xⱼ‖², where 1 − exp would cancel); and the deviations eₖ − ē are those
/// of exp(zₖ − m), of which at least one is 1, so they carry the variance to full precision.
#[derive(Debug, Clone, Copy)]
pub(super) struct Potential {
    shift: f64,
    excess: Moments,
}

impl Summary for Potential {
    const EMPTY: Self = Self {
        shift: f64::NEG_INFINITY,
        excess: Moments::EMPTY,
    };

    /// `values` holds the exponents zₖ (finite).
    fn of(values: &mut [f64]) -> Self {
        let shift = values.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z));
        values.iter_mut().for_each(|z| *z = (*z - shift).exp_m1());
        Self {
            shift,
            excess: Moments::of(values),
        }
    }

    fn merge(&mut self, later: Self) {
        let shift = self.shift.max(later.shift);
        let mut excess = self.rebased(shift);
        excess.merge(later.rebased(shift));
        *self = Self { shift, excess };
    }

    fn estimate(&self) -> Result<Estimate> {
        let mean = self.excess.mean;
        let value = check::no_overflow("the log of the mean potential", self.shift + mean.ln_1p())?;
        Ok(self
            .excess
            .estimate_of(value, self.excess.standard_error() / (1.0 + mean)))
    }
}

impl Potential {
    /// The moments of the excesses re-based onto a shift ≥ this one: each term exp(zₖ − m)
    /// is multiplied by r = exp(m − `shift`) = 1 + g, so ē ↦ ē·r + g and M₂ ↦ M₂·r² (exactly
    /// unchanged for the same shift, g = 0).
    fn rebased(self, shift: f64) -> Moments {
        let g = (self.shift - shift).exp_m1();
        let r = 1.0 + g;
        Moments {
            mean: self.excess.mean * r + g,
            m2: self.excess.m2 * (r * r),
            ..self.excess
        }
    }
}
