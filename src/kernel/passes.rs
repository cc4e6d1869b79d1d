//! The doors of the kernel: one function per kind of pass. Each takes its sets as [`Sets`],
//! detects the instruction set, runs the pass for the sets' element type, and returns plain
//! `f64` (or integer) results. Each door has a twin `…_on(isa, …)` that the kernel's own tests
//! call for every instruction set the CPU has.

use super::epilogue::{self, CosineCounts};
use super::logsumexp::OnlineLogSumExp;
use super::simd::{Isa, Job, MicroKernel};
use super::{Element, Pairs, Rows, schedule};
use crate::scalar::{Pair, Scalar, pair};

/// Two row-major sets of one element type and dimension: A (n × d) and B (m × d). A pass of
/// one set with itself takes [`Sets::one`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sets<'a> {
    pair: Pair<'a>,
    dim: usize,
}

impl<'a> Sets<'a> {
    /// A and B: `a.len()` and `b.len()` are multiples of `dim` > 0.
    pub(crate) fn new<T: Scalar>(a: &'a [T], b: &'a [T], dim: usize) -> Self {
        debug_assert!(dim > 0 && a.len().is_multiple_of(dim) && b.len().is_multiple_of(dim));
        Self {
            pair: pair(a, b),
            dim,
        }
    }

    /// One set, as both A and B.
    pub(crate) fn one<T: Scalar>(x: &'a [T], dim: usize) -> Self {
        Self::new(x, x, dim)
    }
}

/// Runs `$body` with `$a` and `$b` bound to the typed [`Rows`] of `$sets`: the one place where
/// a pass's element type is chosen (the body is compiled once for `f32`, once for `f64`).
macro_rules! typed {
    ($sets:expr, |$a:ident, $b:ident| $body:expr) => {{
        let sets: Sets<'_> = $sets;
        match sets.pair {
            Pair::F32(a, b) => {
                let ($a, $b) = (Rows::new(a, sets.dim), Rows::new(b, sets.dim));
                $body
            }
            Pair::F64(a, b) => {
                let ($a, $b) = (Rows::new(a, sets.dim), Rows::new(b, sets.dim));
                $body
            }
        }
    }};
}

/// log((1/N) Σ exp(−t‖xᵢ − yⱼ‖²)) over the N = n(n−1)/2 pairs i < j of one set (`within`;
/// `sets` from [`Sets::one`]) or the N = n(n−1) pairs i ≠ j of two paired sets A and B
/// (n = m ≥ 2), every row seen as (x − `shift`)·`scale` rounded to the input precision (the
/// distances then divided by `scale`²); identical rows are exactly 0 apart.
pub(crate) fn gaussian_log_mean(
    sets: Sets<'_>,
    within: bool,
    shift: &[f64],
    scale: f64,
    t: f64,
) -> f64 {
    gaussian_log_mean_on(Isa::detect(), sets, within, shift, scale, t)
}

pub(super) fn gaussian_log_mean_on(
    isa: Isa,
    sets: Sets<'_>,
    within: bool,
    shift: &[f64],
    scale: f64,
    t: f64,
) -> f64 {
    typed!(sets, |a, b| {
        let (a, b) = (a.shifted(shift, scale), b.shifted(shift, scale));
        let row_norms = widen(schedule::paired_dots(isa, a, a));
        let col_norms = (!within).then(|| widen(schedule::paired_dots(isa, b, b)));
        let norms = (&row_norms[..], col_norms.as_deref().unwrap_or(&row_norms));
        epilogue::gaussian_potential(isa, Pairs::of(a, b, within), (t, scale.powi(-2)), norms)
            .log_mean()
    })
}

/// The two mean cross-entropies (rows, columns) of the logits s·aᵢ·bⱼ (n = m), for a finite
/// scale s > 0 and `dot_bound` ≥ every |aᵢ·bⱼ|. Row i's target is column i, unless `targets`
/// gives one index tᵢ per row: then row i's target is column tᵢ and column j's is row tⱼ.
pub(crate) fn cross_entropies(
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: Option<&[usize]>,
) -> (f64, f64) {
    cross_entropies_on(Isa::detect(), sets, scale, dot_bound, targets)
}

pub(super) fn cross_entropies_on(
    isa: Isa,
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: Option<&[usize]>,
) -> (f64, f64) {
    typed!(sets, |rows, cols| {
        let (row_targets, col_targets) = match targets {
            None => {
                let diagonal = widen(schedule::paired_dots(isa, rows, cols));
                (diagonal.clone(), diagonal)
            }
            Some(t) => {
                let (picked_cols, picked_rows) = (cols.gather(t), rows.gather(t));
                (
                    widen(schedule::paired_dots(
                        isa,
                        rows,
                        Rows::new(&picked_cols, cols.dim()),
                    )),
                    widen(schedule::paired_dots(
                        isa,
                        Rows::new(&picked_rows, rows.dim()),
                        cols,
                    )),
                )
            }
        };
        let (row_lse, col_lse) = epilogue::cross_entropies(isa, rows, cols, scale, dot_bound);
        // CE = mean over rows (columns) of log Σ exp(z) − z_target, the target logit being the
        // kernel's own dot product (widened exactly) times s.
        let mean_ce = |lse: Vec<OnlineLogSumExp>, targets: Vec<f64>| {
            let total: f64 = lse
                .into_iter()
                .zip(targets)
                .map(|(l, t)| l.value() - scale * t)
                .sum();
            total / rows.len() as f64
        };
        (mean_ce(row_lse, row_targets), mean_ce(col_lse, col_targets))
    })
}

/// For paired sets (n = m): the rank of aᵢ·bᵢ in row i and in column i, ties broken as a
/// stable ascending argsort (the larger index ranks higher).
pub(crate) fn ranks(sets: Sets<'_>) -> (Vec<u64>, Vec<u64>) {
    ranks_on(Isa::detect(), sets)
}

pub(super) fn ranks_on(isa: Isa, sets: Sets<'_>) -> (Vec<u64>, Vec<u64>) {
    typed!(sets, |a, b| {
        let targets = schedule::paired_dots(isa, a, b);
        epilogue::ranks(isa, a, b, &targets)
    })
}

/// Exact counts of the dot products in `bins` equal bins over [−1, 1], with their moments
/// about `centre`: of every pair of A × B, or (`within`) of the pairs i < j of A.
pub(crate) fn histogram(sets: Sets<'_>, within: bool, bins: usize, centre: f64) -> CosineCounts {
    histogram_on(Isa::detect(), sets, within, bins, centre)
}

pub(super) fn histogram_on(
    isa: Isa,
    sets: Sets<'_>,
    within: bool,
    bins: usize,
    centre: f64,
) -> CosineCounts {
    typed!(sets, |a, b| epilogue::histogram(
        isa,
        Pairs::of(a, b, within),
        bins,
        centre
    ))
}

/// The dot products that [`histogram`] with `wanted.len()` bins puts in the bins marked in
/// `wanted`: of every pair of A × B, or (`within`) of the pairs i < j of A, in no set order.
pub(crate) fn values_in_bins(sets: Sets<'_>, within: bool, wanted: &[bool]) -> Vec<f64> {
    values_in_bins_on(Isa::detect(), sets, within, wanted)
}

pub(super) fn values_in_bins_on(
    isa: Isa,
    sets: Sets<'_>,
    within: bool,
    wanted: &[bool],
) -> Vec<f64> {
    typed!(sets, |a, b| epilogue::select(
        isa,
        Pairs::of(a, b, within),
        wanted
    ))
}

/// For each row of A, the min(k, m) columns of B with the largest dot products, best first
/// (ties: the larger index first), as (indices, dot products), row after row.
pub(crate) fn top_k(sets: Sets<'_>, k: usize) -> (Vec<usize>, Vec<f64>) {
    top_k_on(Isa::detect(), sets, k)
}

pub(super) fn top_k_on(isa: Isa, sets: Sets<'_>, k: usize) -> (Vec<usize>, Vec<f64>) {
    typed!(sets, |a, b| {
        epilogue::top_k(isa, a, b, k)
            .into_iter()
            .flatten()
            .map(|(s, j)| (j, s.to_f64()))
            .unzip()
    })
}

/// `out[i·m + j] = aᵢ·bⱼ`, row-major n × m.
pub(crate) fn dot_matrix(sets: Sets<'_>, out: &mut [f64]) {
    dot_matrix_on(Isa::detect(), sets, out)
}

pub(super) fn dot_matrix_on(isa: Isa, sets: Sets<'_>, out: &mut [f64]) {
    typed!(sets, |a, b| epilogue::dot_matrix(isa, a, b, out))
}

/// Runs `f` compiled for the best instruction set of this CPU, as the kernel's own loops are:
/// for the O(n·d) reductions, whose plain loops then vectorise to the full vector width.
pub(crate) fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    Isa::detect().run::<f32, _>(Vectorised(f))
}

/// The job of [`vectorised`] (the micro-kernel itself is not used).
struct Vectorised<F>(F);

impl<R, F: FnOnce() -> R> Job<f32> for Vectorised<F> {
    type Output = R;

    #[inline(always)]
    fn run<K: MicroKernel<f32>>(self, _: K) -> R {
        (self.0)()
    }
}

/// The values in f64 (exact).
fn widen<T: Element>(values: Vec<T>) -> Vec<f64> {
    values.into_iter().map(Scalar::to_f64).collect()
}
