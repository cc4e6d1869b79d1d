//! What the bootstrap and the permutation null share: the metric on all samples, and seeded
//! replicates evaluated in parallel, each from a generator of its own.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::{Result, check};

/// The metric on all n samples in order (the observed value), which must be finite.
pub(super) fn on_all(n: usize, metric: &(impl Fn(&[usize]) -> Result<f64> + Sync)) -> Result<f64> {
    let all: Vec<usize> = (0..n).collect();
    check::finite_value(metric(&all)?)
}

/// `metric(draw(generator r))` for r = 0 … count − 1, in parallel, in the order of r. Replicate
/// r draws from its own generator, seeded by a mix of (`seed`, r), so the values do not depend
/// on the number of threads or on which thread ran which replicate. Every replicate runs; the
/// error returned is that of the first replicate (in the order of r) that failed, and a
/// non-finite value is [`Error::NonFinite`](crate::Error::NonFinite) with r as `row`.
pub(super) fn replicates(
    count: usize,
    seed: u64,
    draw: impl Fn(&mut StdRng) -> Vec<usize> + Sync,
    metric: &(impl Fn(&[usize]) -> Result<f64> + Sync),
) -> Result<Vec<f64>> {
    let values: Vec<Result<f64>> = (0..count)
        .into_par_iter()
        .map(|r| metric(&draw(&mut generator(seed, r))))
        .collect();
    let values = values.into_iter().collect::<Result<Vec<f64>>>()?;
    check::finite_scores(&values)?;
    Ok(values)
}

/// The mean and the standard deviation (divisor m − 1) of m ≥ 2 finite values, two passes.
pub(super) fn mean_and_sd(values: &[f64]) -> Result<(f64, f64)> {
    let m = values.len() as f64;
    let mean = check::no_overflow("the mean of the replicates", values.iter().sum::<f64>() / m)?;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = check::no_overflow(
        "the standard deviation of the replicates",
        (squares / (m - 1.0)).sqrt(),
    )?;
    Ok((mean, sd))
}

/// The generator of replicate `index`: `StdRng` seeded by splitmix64(splitmix64(seed) + index),
/// so nearby seeds and nearby indices give unrelated streams.
fn generator(seed: u64, index: usize) -> StdRng {
    StdRng::seed_from_u64(splitmix64(splitmix64(seed).wrapping_add(index as u64)))
}

/// Steele, Lea & Flood's splitmix64 finaliser (Java's `SplittableRandom`): a bijection of u64
/// that spreads every input bit over the output.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
