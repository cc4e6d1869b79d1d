//! The pairwise engine: every metric over pairs of samples reads its dot products from here.
//!
//! This is the one seam between the metrics and the way dot products are computed. Today it is
//! a straightforward row-parallel loop with an f64 dot product; the tiled SIMD kernel replaces
//! the body of [`map_rows`] without changing its contract.

use rayon::prelude::*;

use crate::Scalar;

/// The f64 dot product Σₖ aₖ·bₖ, accumulated in four interleaved partial sums that are combined
/// in a fixed order (deterministic, and a little more accurate than one running sum).
///
/// `dot(a, b)` and `dot(b, a)` are bitwise equal, and so are `dot(x, x)` and the same product
/// taken as a pair of equal rows: `‖x‖² + ‖x‖² − 2 x·x` is exactly 0.
#[inline]
pub(crate) fn dot<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0_f64; 4];
    let (a4, a_rest) = a.split_at(a.len() - a.len() % 4);
    let (b4, b_rest) = b.split_at(a4.len());
    for (x, y) in a4.chunks_exact(4).zip(b4.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k].to_f64() * y[k].to_f64();
        }
    }
    for (k, (x, y)) in a_rest.iter().zip(b_rest).enumerate() {
        acc[k] += x.to_f64() * y.to_f64();
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Which columns j a row i of a pairwise pass visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// Every j (two sets, or ordered pairs).
    All,
    /// Only j > i (one set with itself, each unordered pair once).
    AfterDiagonal,
}

/// For each row i of `a` (row-major, dimension `d`), computes the dot products aᵢ·bⱼ for the
/// columns j that `columns` selects, hands them to `visit(i, dots)` (where `dots[k]` belongs to
/// the k-th selected column) and returns the results in row order.
///
/// Memory: one scratch row per worker, never an n × m matrix. The results do not depend on the
/// number of threads: each row is computed by one worker in a fixed order.
pub(crate) fn map_rows<T, R, F>(a: &[T], b: &[T], d: usize, columns: Columns, visit: F) -> Vec<R>
where
    T: Scalar,
    R: Send,
    F: Fn(usize, &[f64]) -> R + Sync,
{
    let m = b.len() / d;
    a.par_chunks_exact(d)
        .enumerate()
        .map_init(
            || Vec::with_capacity(m),
            |dots, (i, row)| {
                let first = match columns {
                    Columns::All => 0,
                    Columns::AfterDiagonal => i + 1,
                };
                dots.clear();
                dots.extend(b.chunks_exact(d).skip(first).map(|col| dot(row, col)));
                visit(i, dots)
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Columns, dot, map_rows};

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
    fn map_rows_visits_the_selected_columns_in_order() {
        // Three rows of dimension 2; row i is (i, 1).
        let x = [0.0, 1.0, 1.0, 1.0, 2.0, 1.0];
        let all = map_rows(&x, &x, 2, Columns::All, |i, dots| (i, dots.to_vec()));
        assert_eq!(all[1], (1, vec![1.0, 2.0, 3.0]));
        let upper = map_rows(&x, &x, 2, Columns::AfterDiagonal, |_, dots| dots.to_vec());
        assert_eq!(upper, vec![vec![1.0, 1.0], vec![3.0], vec![]]);
    }

    #[test]
    fn map_rows_is_bitwise_identical_for_any_thread_count() {
        let x: Vec<f64> = (0..40 * 7).map(|k| ((k * 37 % 101) as f64).sin()).collect();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    map_rows(&x, &x, 7, Columns::AfterDiagonal, |_, d| {
                        d.iter().sum::<f64>()
                    })
                })
        };
        let one = run(1);
        for threads in [2, 8] {
            assert_eq!(run(threads), one);
        }
    }
}
