//! Random pairs in fixed chunks: each chunk's pairs come from its own random stream, seeded
//! by (seed, chunk index), and the chunks' summaries merge in chunk order, so the estimate
//! does not depend on the number of threads.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::Budget;
use super::moments::Summary;
use crate::kernel::vectorised;
use crate::{Estimate, Result, Scalar};

/// Pairs per chunk: the unit of parallel work, of the random streams and of the summation
/// order. [`Budget::ROUND_PAIRS`] is a whole number of chunks.
const CHUNK_PAIRS: u64 = 4096;

/// Pairs whose values are computed together (their rows' loads overlap; see
/// [`sums_of_terms`](crate::reduce)).
pub(super) const GROUP: usize = 8;

/// [`GROUP`] pairs of rows.
pub(super) type Group<'r, T> = [(&'r [T], &'r [T]); GROUP];

/// Two sets of `n` rows of dimension `dim` in row-major buffers (the same buffer twice for
/// pairs within one set), and the values of [`GROUP`] pairs of rows at once.
pub(super) struct Rows<'a, T, F> {
    a: &'a [T],
    b: &'a [T],
    dim: usize,
    value: F,
}

impl<'a, T: Scalar, F: Fn(Group<'_, T>) -> [f64; GROUP] + Sync> Rows<'a, T, F> {
    /// The rows `a` and `b` (of dimension `dim`) and the values of their pairs.
    pub(super) fn new(a: &'a [T], b: &'a [T], dim: usize, value: F) -> Self {
        Self { a, b, dim, value }
    }

    /// The estimate from random pairs (i, j), i ≠ j, of rows aᵢ and bⱼ (n ≥ 2, checked), drawn
    /// in rounds of [`Budget::ROUND_PAIRS`] until the budget is spent.
    pub(super) fn estimate<S: Summary>(&self, budget: Budget, seed: u64) -> Result<Estimate> {
        let (limit, target) = budget.plan()?;
        let mut drawn = 0;
        let mut total = S::EMPTY;
        loop {
            let round = Budget::ROUND_PAIRS.min(limit - drawn);
            let first = drawn / CHUNK_PAIRS;
            let chunks: Vec<S> = (first..first + round.div_ceil(CHUNK_PAIRS))
                .into_par_iter()
                .map(|chunk| {
                    let len = CHUNK_PAIRS.min(drawn + round - chunk * CHUNK_PAIRS);
                    vectorised(
                        #[inline(always)]
                        || self.chunk(seed, chunk, len as usize),
                    )
                })
                .collect();
            chunks.into_iter().for_each(|summary| total.merge(summary));
            drawn += round;
            let estimate = total.estimate()?;
            if drawn == limit || target.is_some_and(|se| estimate.standard_error <= se) {
                return Ok(estimate);
            }
        }
    }

    /// The summary of `len` pairs drawn from chunk `chunk`'s stream: the indices first, then
    /// the values, [`GROUP`] pairs at a time (the last group padded with copies of the last
    /// pair, whose values are dropped).
    #[inline(always)]
    fn chunk<S: Summary>(&self, seed: u64, chunk: u64, len: usize) -> S {
        let n = self.a.len() / self.dim;
        let mut rng = stream(seed, chunk);
        let mut pairs: Vec<(usize, usize)> = (0..len)
            .map(|_| {
                let i = rng.random_range(0..n);
                let j = rng.random_range(0..n - 1);
                (i, if j >= i { j + 1 } else { j })
            })
            .collect();
        pairs.resize(len.next_multiple_of(GROUP), pairs[len - 1]);
        let mut values = vec![0.0; pairs.len()];
        for (group, out) in pairs
            .chunks_exact(GROUP)
            .zip(values.chunks_exact_mut(GROUP))
        {
            let rows = std::array::from_fn(
                #[inline(always)]
                |k| {
                    let (i, j) = group[k];
                    (self.row(self.a, i), self.row(self.b, j))
                },
            );
            out.copy_from_slice(&(self.value)(rows));
        }
        values.truncate(len);
        S::of(&mut values)
    }

    #[inline(always)]
    fn row<'r>(&self, data: &'r [T], i: usize) -> &'r [T] {
        &data[i * self.dim..][..self.dim]
    }
}

/// The random stream of chunk `chunk`: ChaCha12 keyed by the seed and the chunk index.
fn stream(seed: u64, chunk: u64) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&chunk.to_le_bytes());
    StdRng::from_seed(key)
}
