//! O(n·d) reductions over rows, in fixed chunks combined in a fixed order, so that results are
//! bitwise identical for any number of threads.

use std::ops::Range;

use rayon::prelude::*;

use crate::{Embeddings, Modality, Scalar, kernel::vectorised};

/// The f64 dot product Σₖ aₖ·bₖ, accumulated in four interleaved partial sums that are combined
/// in a fixed order (deterministic, and a little more accurate than one running sum).
#[inline(always)]
pub(crate) fn dot<T: Scalar, U: Scalar>(a: &[T], b: &[U]) -> f64 {
    let [dot] = dots([(a, b)]);
    dot
}

/// [`dot`] of G pairs of rows at once, each bitwise as alone.
#[inline(always)]
pub(crate) fn dots<const G: usize, T: Scalar, U: Scalar>(pairs: [(&[T], &[U]); G]) -> [f64; G] {
    sums_of_terms(
        pairs,
        #[inline(always)]
        |x, y| x * y,
    )
}

/// The squared distances Σₖ (aₖ − bₖ)² of G pairs of rows at once, each difference taken in
/// f64 (no cancellation through the Gram identity), each summed as [`dot`] sums.
#[inline(always)]
pub(crate) fn squared_distances<const G: usize, T: Scalar, U: Scalar>(
    pairs: [(&[T], &[U]); G],
) -> [f64; G] {
    sums_of_terms(
        pairs,
        #[inline(always)]
        |x, y| (x - y) * (x - y),
    )
}

/// Σₖ term(aₖ, bₖ) in f64 of G pairs of rows of one length at once, each in four interleaved
/// partial sums combined in a fixed order, and each summed exactly as it would be alone: the
/// pairs advance together, four values at a time, so that the loads of their 2G rows are in
/// flight together (random rows come from memory, and one pair alone leaves the memory system
/// idle while it waits).
#[inline(always)]
fn sums_of_terms<const G: usize, T: Scalar, U: Scalar>(
    pairs: [(&[T], &[U]); G],
    term: impl Fn(f64, f64) -> f64,
) -> [f64; G] {
    let len = pairs.first().map_or(0, |(a, _)| a.len());
    debug_assert!(pairs.iter().all(|(a, b)| a.len() == len && b.len() == len));
    let steps = len / 4;
    // Fours of values, each slice cut to `steps` (so the loop below needs no bounds checks).
    let fours = pairs.map(|(a, b)| {
        (
            &a.as_chunks::<4>().0[..steps],
            &b.as_chunks::<4>().0[..steps],
        )
    });
    let mut acc = [[0.0_f64; 4]; G];
    for step in 0..steps {
        for ((a, b), acc) in fours.iter().zip(&mut acc) {
            let (x, y) = (&a[step], &b[step]);
            for k in 0..4 {
                acc[k] += term(x[k].to_f64(), y[k].to_f64());
            }
        }
    }
    for ((a, b), acc) in pairs.iter().zip(&mut acc) {
        let rest = 4 * steps..len;
        for (k, (x, y)) in a[rest.clone()].iter().zip(&b[rest]).enumerate() {
            acc[k] += term(x.to_f64(), y.to_f64());
        }
    }
    acc.map(|acc| (acc[0] + acc[1]) + (acc[2] + acc[3]))
}

/// Rows per chunk: the unit of parallel work and of the fixed summation order (inputs with
/// fewer rows are one chunk).
pub(crate) const CHUNK_ROWS: usize = 2048;

/// `per_chunk(rows)` for each chunk of rows, in parallel, in chunk order; each call compiled
/// for the best instruction set of the CPU (the loops vectorise to its width).
pub(crate) fn per_chunk<R: Send>(n: usize, per_chunk: impl Fn(Range<usize>) -> R + Sync) -> Vec<R> {
    per_chunk_in(n, 0..n.div_ceil(CHUNK_ROWS), per_chunk)
}

/// [`per_chunk`] for the chunks `chunks` (chunk c holds rows c·[`CHUNK_ROWS`] on) of 0..n only.
pub(crate) fn per_chunk_in<R: Send>(
    n: usize,
    chunks: Range<usize>,
    per_chunk: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    par_map(chunks, &|c| {
        vectorised(
            #[inline(always)]
            || per_chunk(c * CHUNK_ROWS..n.min((c + 1) * CHUNK_ROWS)),
        )
    })
}

/// f(i) for each i of `items`, in parallel, in order. `f` is type-erased so that rayon's
/// machinery is compiled once per result type, not once per closure: the crate's metrics are
/// generic and pass closures, and each crate that calls them compiles them (with
/// `impl Fn`, rayon's machinery took a quarter of the integration tests' LLVM IR).
pub(crate) fn par_map<R: Send>(items: Range<usize>, f: &(dyn Fn(usize) -> R + Sync)) -> Vec<R> {
    items.into_par_iter().map(f).collect()
}

/// f(i) for i in 0..n, computed in the chunks of [`per_chunk`].
pub(crate) fn per_row(n: usize, f: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    per_chunk(
        n,
        #[inline(always)]
        |rows| rows.map(&f).collect::<Vec<_>>(),
    )
    .concat()
}

/// Σᵢ f(i) for i in 0..n.
pub(crate) fn sum_over_rows(n: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let mut total = ChunkTotal::new();
    total.add_rows(n, f, |_| {});
    total.value()
}

/// The sum of f(i) over each chunk of [`CHUNK_ROWS`] rows of 0..n, in chunk order, calling
/// `done(rows)` after each chunk (see [`Embeddings::done_with`]).
pub(crate) fn chunk_totals(
    n: usize,
    f: impl Fn(usize) -> f64 + Sync,
    done: impl Fn(Range<usize>) + Sync,
) -> Vec<f64> {
    chunk_totals_in(n, 0..n.div_ceil(CHUNK_ROWS), f, done)
}

/// [`chunk_totals`] of the chunks `chunks` of 0..n only.
pub(crate) fn chunk_totals_in(
    n: usize,
    chunks: Range<usize>,
    f: impl Fn(usize) -> f64 + Sync,
    done: impl Fn(Range<usize>) + Sync,
) -> Vec<f64> {
    per_chunk_in(
        n,
        chunks,
        #[inline(always)]
        |rows| {
            let sum = rows.clone().map(&f).sum::<f64>();
            done(rows);
            sum
        },
    )
}

/// A sum Σᵢ f(i) over rows given a whole number of chunks at a time: each chunk's sum added in
/// order, as [`sum_over_rows`] adds them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkTotal(f64);

impl ChunkTotal {
    /// No rows yet: the empty sum, as `Iterator::sum` starts it.
    pub(crate) fn new() -> Self {
        Self(std::iter::empty::<f64>().sum())
    }

    /// Adds f(i) for i in 0..n, a chunk of [`CHUNK_ROWS`] at a time, calling `done(rows)`
    /// after each chunk (see [`Embeddings::done_with`]).
    pub(crate) fn add_rows(
        &mut self,
        n: usize,
        f: impl Fn(usize) -> f64 + Sync,
        done: impl Fn(Range<usize>) + Sync,
    ) {
        self.add_chunks(chunk_totals(n, f, done));
    }

    /// Adds the sums of whole chunks ([`chunk_totals`]), in order.
    pub(crate) fn add_chunks(&mut self, chunks: impl IntoIterator<Item = f64>) {
        for chunk in chunks {
            self.0 += chunk;
        }
    }

    /// The sum.
    pub(crate) fn value(self) -> f64 {
        self.0
    }
}

/// The row sum Σᵢ xᵢ (a d-vector) and the sum of squared norms Σᵢ ‖xᵢ‖².
pub(crate) fn row_sum_and_squared_norms<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
) -> (Vec<f64>, f64) {
    row_sum_and(
        x,
        #[inline(always)]
        |row| dot(row, row),
    )
}

/// The mean row (1/n) Σᵢ xᵢ.
pub(crate) fn mean_row<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Vec<f64> {
    let n = x.len() as f64;
    let (mut sum, _) = row_sum_and(
        x,
        #[inline(always)]
        |_| 0.0,
    );
    sum.iter_mut().for_each(|s| *s /= n);
    sum
}

/// maxᵢ ‖xᵢ‖₂, in f64.
pub(crate) fn max_row_norm<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> f64 {
    per_chunk(
        x.len(),
        #[inline(always)]
        |rows| {
            let max = rows
                .clone()
                .map(|i| dot(x.row(i), x.row(i)))
                .fold(0.0, f64::max);
            x.done_with(rows);
            max
        },
    )
    .into_iter()
    .fold(0.0, f64::max)
    .sqrt()
}

/// How far rows reach from a point (see [`reach`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reach {
    /// maxᵢₖ |xᵢₖ − centreₖ|, the largest deviation of any coordinate.
    pub(crate) coordinate: f64,
    /// maxᵢ ‖xᵢ − centre‖₂², the largest squared distance of a row.
    pub(crate) squared: f64,
}

impl Reach {
    /// Nothing reached: the start of a maximum.
    const NONE: Self = Self {
        coordinate: 0.0,
        squared: 0.0,
    };

    /// The farther of two reaches, in each of its measures (rows of both sets).
    pub(crate) fn max(self, other: Self) -> Self {
        Self {
            coordinate: self.coordinate.max(other.coordinate),
            squared: self.squared.max(other.squared),
        }
    }
}

/// How far the rows of `x` reach from `centre`, in f64 (exact maxima, in any order, of the
/// deviations, and of each row's squared distance summed as [`squared_distances`] sums). Each
/// chunk keeps the maximum of every coordinate, row after row, a loop that vectorises (a
/// running maximum of one value per step would not), then takes the largest.
pub(crate) fn reach<T: Scalar, M: Modality>(x: &Embeddings<T, M>, centre: &[f64]) -> Reach {
    per_chunk(
        x.len(),
        #[inline(always)]
        |rows| {
            let mut coordinates = vec![0.0_f64; centre.len()];
            let mut squared = 0.0_f64;
            for i in rows.clone() {
                for ((m, v), c) in coordinates.iter_mut().zip(x.row(i)).zip(centre) {
                    let deviation = (v.to_f64() - c).abs();
                    // `f64::max` without its NaN rule (the values are finite), so it vectorises.
                    *m = if deviation > *m { deviation } else { *m };
                }
                let [row] = squared_distances([(x.row(i), centre)]);
                // A centre that overflowed (NaN) is infinitely far.
                squared = squared.max(if row.is_nan() { f64::INFINITY } else { row });
            }
            x.done_with(rows);
            Reach {
                coordinate: coordinates.into_iter().fold(0.0, f64::max),
                squared,
            }
        },
    )
    .into_iter()
    .fold(Reach::NONE, Reach::max)
}

/// The row sum Σᵢ xᵢ and Σᵢ extra(xᵢ), in one pass over the rows.
fn row_sum_and<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    extra: impl Fn(&[T]) -> f64 + Sync,
) -> (Vec<f64>, f64) {
    let mut total = RowSum::new(x.dim());
    total.add_chunks(chunk_sums(x.as_slice(), x.dim(), extra, |rows| {
        x.done_with(rows)
    }));
    (total.sum, total.extras)
}

/// A row sum Σᵢ xᵢ and a sum Σᵢ extra(xᵢ) over rows given a whole number of chunks at a time:
/// the sums of each chunk added in order, so rows given in one piece or in several (cut at
/// multiples of [`CHUNK_ROWS`]) sum to the same bits.
#[derive(Debug, Clone)]
pub(crate) struct RowSum {
    pub(crate) sum: Vec<f64>,
    pub(crate) extras: f64,
}

impl RowSum {
    /// No rows of dimension d yet.
    pub(crate) fn new(d: usize) -> Self {
        Self {
            sum: vec![0.0; d],
            extras: 0.0,
        }
    }

    /// Adds the row-major rows `values` (of this sum's dimension), a chunk of
    /// [`CHUNK_ROWS`] at a time.
    pub(crate) fn add_rows<T: Scalar>(&mut self, values: &[T], extra: impl Fn(&[T]) -> f64 + Sync) {
        self.add_chunks(chunk_sums(values, self.sum.len(), extra, |_| {}));
    }

    /// Adds the sums of chunks, in order.
    pub(crate) fn add_chunks(&mut self, chunks: impl IntoIterator<Item = (Vec<f64>, f64)>) {
        for (sum, e) in chunks {
            for (t, s) in self.sum.iter_mut().zip(sum) {
                *t += s;
            }
            self.extras += e;
        }
    }
}

/// The row sum and the sum of `extra` of each chunk of [`CHUNK_ROWS`] rows of the row-major
/// rows `values` of dimension d, in order, calling `done(rows)` after each chunk (rows counted
/// from the start of `values`; see [`Embeddings::done_with`]).
pub(crate) fn chunk_sums<T: Scalar>(
    values: &[T],
    d: usize,
    extra: impl Fn(&[T]) -> f64 + Sync,
    done: impl Fn(Range<usize>) + Sync,
) -> Vec<(Vec<f64>, f64)> {
    per_chunk(
        values.len() / d,
        #[inline(always)]
        |rows| {
            let mut sum = vec![0.0; d];
            let mut extras = 0.0;
            for row in values[rows.start * d..rows.end * d].chunks_exact(d) {
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += v.to_f64();
                }
                extras += extra(row);
            }
            done(rows);
            (sum, extras)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{dot, dots, squared_distances};

    #[test]
    fn dot_is_exact_on_small_integers_for_every_length() {
        for len in 0..13 {
            let a: Vec<f32> = (0..len).map(|k| k as f32).collect();
            let b: Vec<f32> = (0..len).map(|k| (k % 3) as f32 - 1.0).collect();
            let expected: f64 = (0..len).map(|k| k as f64 * ((k % 3) as f64 - 1.0)).sum();
            assert_eq!(dot(&a, &b), expected, "length {len}");
            assert_eq!(dot(&a, &b), dot(&b, &a));
        }
    }

    #[test]
    fn pairs_summed_together_are_summed_as_alone() {
        let rows: Vec<Vec<f64>> = (0..6)
            .map(|r| {
                (0..11)
                    .map(|k| ((r * 11 + k) as f64 * 0.37).sin())
                    .collect()
            })
            .collect();
        let pairs: [(&[f64], &[f64]); 3] = [
            (&rows[0], &rows[1]),
            (&rows[2], &rows[3]),
            (&rows[4], &rows[5]),
        ];
        let together = dots(pairs);
        let distances = squared_distances(pairs);
        for (k, (a, b)) in pairs.into_iter().enumerate() {
            assert_eq!(together[k].to_bits(), dot(a, b).to_bits());
            let [alone] = squared_distances([(a, b)]);
            assert_eq!(distances[k].to_bits(), alone.to_bits());
        }
        let [d] = squared_distances([(&[1.0f32, 2.0, 3.0, 4.0, 5.0][..], &[0.0f32; 5][..])]);
        assert_eq!(d, 55.0);
    }
}
