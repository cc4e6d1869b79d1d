//! What the bootstrap and the permutation null share: the metric on all samples, and seeded
//! replicates evaluated in parallel, each from a generator of its own.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::reduce::par_map;
use crate::{Result, check};

/// A metric on all n rows (θ) and on `count` seeded lists of rows (θ₁ … θ_count), with the
/// mean and standard deviation (divisor count − 1) of the latter.
pub(super) struct Replicated {
    pub(super) value: f64,
    pub(super) replicates: Vec<f64>,
    pub(super) mean: f64,
    pub(super) sd: f64,
}

/// θ = `metric(0, 1, …, n − 1)` and θ_r = `metric(draw(generator r))` for r = 0 … count − 1,
/// in parallel, in the order of r. Replicate r draws from its own generator, seeded by a mix
/// of (`seed`, r), so the values do not depend on the number of threads or on which thread
/// ran which replicate. Every replicate runs; the error returned is θ's, else that of the
/// first replicate (in the order of r) that failed. Errors: n < 2, `count` < 2 (named
/// `name`), the metric's, [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite θ
/// (row 0, column 1) or θ_r (row r, column 0), and an overflowing spread.
pub(super) fn replicate(
    n: usize,
    (name, count): (&'static str, usize),
    seed: u64,
    draw: impl Fn(&mut StdRng) -> Vec<usize> + Sync,
    metric: impl Fn(&[usize]) -> Result<f64> + Sync,
) -> Result<Replicated> {
    check::at_least(2, n)?;
    check::count_within(name, count, 2, usize::MAX, "at least 2")?;
    let all: Vec<usize> = (0..n).collect();
    let value = check::finite_value(metric(&all)?)?;
    let replicates = par_map(0..count, &|r| metric(&draw(&mut generator(seed, r))));
    let replicates = replicates.into_iter().collect::<Result<Vec<f64>>>()?;
    check::finite_scores(&replicates)?;
    let m = count as f64;
    let mean = check::no_overflow(
        "the mean of the replicates",
        replicates.iter().sum::<f64>() / m,
    )?;
    let squares: f64 = replicates.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = check::no_overflow(
        "the standard deviation of the replicates",
        (squares / (m - 1.0)).sqrt(),
    )?;
    Ok(Replicated {
        value,
        replicates,
        mean,
        sd,
    })
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
