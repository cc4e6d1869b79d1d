//! O(n·d) reductions over rows, in fixed chunks combined in a fixed order, so that results are
//! bitwise identical for any number of threads.

use std::ops::Range;

use rayon::prelude::*;

use crate::{Embeddings, Modality, Scalar, kernel::vectorised};

/// The f64 dot product Σₖ aₖ·bₖ, accumulated in four interleaved partial sums that are combined
/// in a fixed order (deterministic, and a little more accurate than one running sum).
#[inline(always)]
pub(crate) fn dot<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    sum_of_terms(
        a,
        b,
        #[inline(always)]
        |x, y| x * y,
    )
}

/// The squared distance Σₖ (aₖ − bₖ)², each difference taken in f64 (no cancellation through
/// the Gram identity), summed as [`dot`] sums.
#[inline(always)]
pub(crate) fn squared_distance<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    sum_of_terms(
        a,
        b,
        #[inline(always)]
        |x, y| (x - y) * (x - y),
    )
}

/// Σₖ term(aₖ, bₖ) in f64, in four interleaved partial sums combined in a fixed order.
#[inline(always)]
fn sum_of_terms<T: Scalar>(a: &[T], b: &[T], term: impl Fn(f64, f64) -> f64) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0_f64; 4];
    let (a4, a_rest) = a.split_at(a.len() - a.len() % 4);
    let (b4, b_rest) = b.split_at(a4.len());
    for (x, y) in a4.chunks_exact(4).zip(b4.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += term(x[k].to_f64(), y[k].to_f64());
        }
    }
    for (k, (x, y)) in a_rest.iter().zip(b_rest).enumerate() {
        acc[k] += term(x.to_f64(), y.to_f64());
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Rows per chunk: the unit of parallel work and of the fixed summation order (inputs with
/// fewer rows are one chunk).
const CHUNK_ROWS: usize = 2048;

/// `per_chunk(rows)` for each chunk of rows, in parallel, in chunk order; each call compiled
/// for the best instruction set of the CPU (the loops vectorise to its width).
pub(crate) fn per_chunk<R: Send>(n: usize, per_chunk: impl Fn(Range<usize>) -> R + Sync) -> Vec<R> {
    (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|c| {
            vectorised(
                #[inline(always)]
                || per_chunk(c * CHUNK_ROWS..n.min((c + 1) * CHUNK_ROWS)),
            )
        })
        .collect()
}

/// Σᵢ f(i) for i in 0..n.
pub(crate) fn sum_over_rows(n: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    per_chunk(
        n,
        #[inline(always)]
        |rows| rows.map(&f).sum::<f64>(),
    )
    .into_iter()
    .sum()
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
        |rows| rows.map(|i| dot(x.row(i), x.row(i))).fold(0.0, f64::max),
    )
    .into_iter()
    .fold(0.0, f64::max)
    .sqrt()
}

/// maxᵢₖ |xᵢₖ − centreₖ|, in f64 (exact: a maximum does not depend on the order).
pub(crate) fn max_abs_deviation<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    centre: &[f64],
) -> f64 {
    per_chunk(
        x.len(),
        #[inline(always)]
        |rows| {
            rows.flat_map(|i| x.row(i).iter().zip(centre))
                .fold(0.0, |m: f64, (v, c)| m.max((v.to_f64() - c).abs()))
        },
    )
    .into_iter()
    .fold(0.0, f64::max)
}

/// The row sum Σᵢ xᵢ and Σᵢ extra(xᵢ), in one pass over the rows.
fn row_sum_and<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    extra: impl Fn(&[T]) -> f64 + Sync,
) -> (Vec<f64>, f64) {
    let d = x.dim();
    let partials = per_chunk(
        x.len(),
        #[inline(always)]
        |rows| {
            let mut sum = vec![0.0; d];
            let mut extras = 0.0;
            for i in rows {
                let row = x.row(i);
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += v.to_f64();
                }
                extras += extra(row);
            }
            (sum, extras)
        },
    );
    let mut total = vec![0.0; d];
    let mut extras = 0.0;
    for (sum, e) in partials {
        for (t, s) in total.iter_mut().zip(sum) {
            *t += s;
        }
        extras += e;
    }
    (total, extras)
}

#[cfg(test)]
mod tests {
    use super::dot;

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
}
