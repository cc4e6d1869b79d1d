//! The doors of the kernel: one function per kind of pass. Each takes its sets as [`Sets`],
//! detects the instruction set, runs the pass for the sets' element type, and returns plain
//! `f64` (or integer) results. Each door has a twin `…_on(isa, …)` that the kernel's own tests
//! call for every instruction set the CPU has.

use super::epilogue::{self, CosineCounts, Positives, Runs, SampleBlock, TaskTree};
use std::ops::Range;

use super::logsumexp::{LogSumExp, OnlineLogSumExp};
use super::simd::{Isa, Job, MicroKernel};
use super::{ALL_TILES, Element, Pairs, PanelTiles, Rows, schedule};
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
    typed!(sets, |a, b| gaussian(
        isa,
        (a, b, within),
        (shift, scale),
        t,
        false
    )
    .0)
}

/// [`gaussian_log_mean`], and each sample's share of the sum of the potentials beyond the
/// mean share: (rₖ − r̄)/S, where rₖ sums the terms of the pairs that contain sample k (row k
/// of A or column k of B), S sums all terms and r̄ = 2S/n. The log-mean is the same, to the
/// bit, as [`gaussian_log_mean`]'s.
pub(crate) fn gaussian_log_mean_and_shares(
    sets: Sets<'_>,
    within: bool,
    shift: &[f64],
    scale: f64,
    t: f64,
) -> (f64, Vec<f64>) {
    gaussian_log_mean_and_shares_on(Isa::detect(), sets, within, shift, scale, t)
}

pub(super) fn gaussian_log_mean_and_shares_on(
    isa: Isa,
    sets: Sets<'_>,
    within: bool,
    shift: &[f64],
    scale: f64,
    t: f64,
) -> (f64, Vec<f64>) {
    typed!(sets, |a, b| gaussian(
        isa,
        (a, b, within),
        (shift, scale),
        t,
        true
    ))
}

/// The Gaussian pass of both doors: the log-mean, and the shares when `shares` (else empty).
fn gaussian<T: Element>(
    isa: Isa,
    (a, b, within): (Rows<'_, T>, Rows<'_, T>, bool),
    (shift, scale): (&[f64], f64),
    t: f64,
    shares: bool,
) -> (f64, Vec<f64>) {
    gaussian_setup(
        isa,
        (a, b, within),
        (shift, scale),
        t,
        |pairs, parameters, norms| {
            if shares {
                let (total, shares) = epilogue::gaussian_shares(isa, pairs, parameters, norms);
                (total.log_mean(), shares)
            } else {
                let total = epilogue::gaussian_potential(isa, pairs, parameters, norms);
                (total.log_mean(), Vec::new())
            }
        },
    )
}

/// Runs `pass` on what every Gaussian pass takes: the pairs of the rows shifted and scaled,
/// (t, 1/scale²), and the rows' and the columns' squared norms as the kernel sees them.
fn gaussian_setup<T: Element, R>(
    isa: Isa,
    (a, b, within): (Rows<'_, T>, Rows<'_, T>, bool),
    (shift, scale): (&[f64], f64),
    t: f64,
    pass: impl FnOnce(Pairs<'_, T>, (f64, f64), (&[f64], &[f64])) -> R,
) -> R {
    let (a, b) = (a.shifted(shift, scale), b.shifted(shift, scale));
    let row_norms = widen(schedule::paired_dots(isa, a, a));
    let col_norms = (!within).then(|| widen(schedule::paired_dots(isa, b, b)));
    let norms = (&row_norms[..], col_norms.as_deref().unwrap_or(&row_norms));
    pass(Pairs::of(a, b, within), (t, scale.powi(-2)), norms)
}

/// Which entries of A × B are positives: the targets of the cross-entropies and the ranks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Targets<'a> {
    /// n = m: entry (i, i) for row i and for column i.
    Diagonal,
    /// n = m: entry (i, tᵢ) for row i, entry (tⱼ, j) for column j.
    Labels(&'a [usize]),
    /// Column j's positive is row gⱼ; row i's positives are the columns j with gⱼ = i (every
    /// row has at least one): images and their captions.
    Groups(&'a [usize]),
}

/// The two mean cross-entropies (over rows, over columns) of the logits s·aᵢ·bⱼ, for a finite
/// scale s > 0 and `dot_bound` ≥ every |aᵢ·bⱼ|: the mean over rows (columns) of
/// log Σ exp(z) − z_target. With [`Targets::Groups`] a row's target logit is the mean over
/// its positives (the mean of one cross-entropy per positive).
pub(crate) fn cross_entropies(
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: Targets<'_>,
) -> (f64, f64) {
    cross_entropies_on(Isa::detect(), sets, scale, dot_bound, targets)
}

pub(super) fn cross_entropies_on(
    isa: Isa,
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: Targets<'_>,
) -> (f64, f64) {
    typed!(sets, |rows, cols| {
        let pass = CrossEntropies::of(isa, (rows, cols), (scale, dot_bound), targets);
        (mean(&pass.row_ce), mean(&pass.col_ce))
    })
}

/// The cross-entropy of each row of A against every column of B at logit scale s, row i's
/// target the column `targets[i]`: log Σⱼ exp(s·aᵢ·bⱼ) − s·aᵢ·b_{tᵢ}, for a finite s > 0 and
/// `dot_bound` ≥ every |aᵢ·bⱼ| (A of any number of rows: a sample of the rows of a loss).
pub(crate) fn row_cross_entropies(
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: &[usize],
) -> Vec<f64> {
    row_cross_entropies_on(Isa::detect(), sets, scale, dot_bound, targets)
}

pub(super) fn row_cross_entropies_on(
    isa: Isa,
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: &[usize],
) -> Vec<f64> {
    typed!(sets, |rows, cols| {
        let picked = cols.gather(targets);
        let target_dots = schedule::paired_dots(isa, rows, Rows::new(&picked, cols.dim()));
        let (row_lse, _) = epilogue::cross_entropies(isa, rows, cols, scale, dot_bound);
        // The target logit is the kernel's own dot product (widened exactly) times s.
        (row_lse.into_iter().zip(target_dots))
            .map(|(lse, dot)| lse.value() - scale * dot.to_f64())
            .collect()
    })
}

/// [`cross_entropies`] against the diagonal, and how each of the two means moves when one
/// unit is left out: a sample (row i of A and column i of B), or a run of samples.
#[derive(Debug, Clone)]
pub(crate) struct LeftOut {
    /// The means over rows and over columns, [`cross_entropies`]' to the bit.
    pub(crate) means: (f64, f64),
    /// L₋ᵤ − L for the mean over rows, for each unit u.
    pub(crate) rows: Vec<f64>,
    /// L₋ᵤ − L for the mean over columns.
    pub(crate) cols: Vec<f64>,
}

/// [`cross_entropies`] with [`Targets::Diagonal`] (n = m ≥ 2) and, from a second pass, each
/// mean's leave-one-out deviation. With ℓₖ the cross-entropy of row k, L their mean,
/// pₖᵢ = exp(zₖᵢ − lseₖ) and Cᵢ = Σ_{k≠i} log(1 − pₖᵢ) (the second pass),
///
/// ```text
/// L₋ᵢ − L = (Σ_{k≠i} (ℓₖ + log(1 − pₖᵢ)))/(n − 1) − L = (L − ℓᵢ + Cᵢ)/(n − 1)
/// ```
///
/// and likewise over columns.
pub(crate) fn cross_entropies_left_out(sets: Sets<'_>, scale: f64, dot_bound: f64) -> LeftOut {
    cross_entropies_left_out_on(Isa::detect(), sets, scale, dot_bound)
}

pub(super) fn cross_entropies_left_out_on(
    isa: Isa,
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
) -> LeftOut {
    typed!(sets, |rows, cols| {
        let bounds = (scale, dot_bound);
        let pass = CrossEntropies::of(isa, (rows, cols), bounds, Targets::Diagonal);
        let lse = (&pass.row_lse[..], &pass.col_lse[..]);
        let (by_col, by_row) = epilogue::leave_one_out_logs(isa, (rows, cols), bounds, lse);
        LeftOut {
            means: (mean(&pass.row_ce), mean(&pass.col_ce)),
            rows: deviations(&pass.row_ce, &by_col),
            cols: deviations(&pass.col_ce, &by_row),
        }
    })
}

/// [`cross_entropies`] with [`Targets::Diagonal`] (n = m ≥ 2) and, from the same pass, how
/// each mean moves when the samples of one run of `runs` (rows and columns of consecutive
/// indices) are left out: [`LeftOut`] with a deviation per run.
pub(crate) fn cross_entropies_left_out_by_runs(
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    runs: Runs,
) -> LeftOut {
    cross_entropies_left_out_by_runs_on(Isa::detect(), sets, scale, dot_bound, runs)
}

pub(super) fn cross_entropies_left_out_by_runs_on(
    isa: Isa,
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    runs: Runs,
) -> LeftOut {
    typed!(sets, |rows, cols| {
        let pass = epilogue::cross_entropies_by_runs(isa, (rows, cols), (scale, dot_bound), runs);
        let lse = (pass.rows, pass.cols);
        let ce = CrossEntropies::from_lse(isa, (rows, cols), scale, Targets::Diagonal, lse);
        let by_cols = epilogue::removed_from_columns(&ce.col_lse, &pass.col_runs, runs);
        LeftOut {
            means: (mean(&ce.row_ce), mean(&ce.col_ce)),
            rows: epilogue::run_deviations(&ce.row_ce, &pass.row_removed, runs),
            cols: epilogue::run_deviations(&ce.col_ce, &by_cols, runs),
        }
    })
}

/// The first pass of the cross-entropies: each row's and each column's log-sum-exp and
/// cross-entropy.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct CrossEntropies {
    pub(crate) row_lse: Vec<f64>,
    pub(crate) col_lse: Vec<f64>,
    pub(crate) row_ce: Vec<f64>,
    pub(crate) col_ce: Vec<f64>,
}

impl CrossEntropies {
    fn of<T: Element>(
        isa: Isa,
        (rows, cols): (Rows<'_, T>, Rows<'_, T>),
        (scale, dot_bound): (f64, f64),
        targets: Targets<'_>,
    ) -> Self {
        let lse = epilogue::cross_entropies(isa, rows, cols, scale, dot_bound);
        Self::from_lse(isa, (rows, cols), scale, targets, lse)
    }

    /// The cross-entropies, given the pass's log-sum-exps `lse` (of rows, of columns).
    fn from_lse<T: Element>(
        isa: Isa,
        (rows, cols): (Rows<'_, T>, Rows<'_, T>),
        scale: f64,
        targets: Targets<'_>,
        (row_lse, col_lse): (Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>),
    ) -> Self {
        let (row_targets, col_targets) = match targets {
            Targets::Diagonal => {
                let diagonal = widen(schedule::paired_dots(isa, rows, cols));
                (diagonal.clone(), diagonal)
            }
            Targets::Labels(t) => {
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
            Targets::Groups(g) => {
                let positives = widen(group_dots(isa, rows, cols, g));
                (group_means(g, &positives, rows.len()), positives)
            }
        };
        let values = |lse: Vec<OnlineLogSumExp>| -> Vec<f64> {
            lse.into_iter().map(OnlineLogSumExp::value).collect()
        };
        let (row_lse, col_lse) = (values(row_lse), values(col_lse));
        Self {
            row_ce: cross_entropy_of(&row_lse, row_targets, scale),
            col_ce: cross_entropy_of(&col_lse, col_targets, scale),
            row_lse,
            col_lse,
        }
    }
}

/// Each row's target with [`Targets::Groups`] `groups` (every one of the `rows` rows in a
/// group): the mean of its columns' target dots `positives`, added in column order.
fn group_means(groups: &[usize], positives: &[f64], rows: usize) -> Vec<f64> {
    let mut sums = vec![(0.0, 0.0); rows];
    for (&i, &p) in groups.iter().zip(positives) {
        sums[i].0 += p;
        sums[i].1 += 1.0;
    }
    sums.into_iter().map(|(sum, count)| sum / count).collect()
}

/// Each row's (column's) cross-entropy lse − s·target, the target logit the kernel's own dot
/// product (widened exactly) times s.
fn cross_entropy_of(lse: &[f64], targets: Vec<f64>, scale: f64) -> Vec<f64> {
    lse.iter()
        .zip(targets)
        .map(|(l, t)| l - scale * t)
        .collect()
}

/// The mean of per-row (per-column) cross-entropies.
fn mean(ce: &[f64]) -> f64 {
    ce.iter().sum::<f64>() / ce.len() as f64
}

/// (L − ℓᵢ + Cᵢ)/(n − 1) for each i: the cross-entropies ℓ, their mean L, and what leaving
/// sample i out takes from the other rows' (columns') log-sum-exps, Cᵢ.
fn deviations(ce: &[f64], removed: &[f64]) -> Vec<f64> {
    let (mean, n) = (mean(ce), ce.len() as f64);
    (ce.iter().zip(removed))
        .map(|(l, c)| ((mean - l) + c) / (n - 1.0))
        .collect()
}

/// The rank of each row's positive in its row and of each column's positive in its column
/// (how many entries outrank it), ties broken as a stable ascending argsort (the larger index
/// ranks higher). The positives are the diagonal (n = m), or with `groups` those of
/// [`Targets::Groups`]; a row of several positives is ranked by its best one (on ties, the one
/// of larger index).
pub(crate) fn ranks(sets: Sets<'_>, groups: Option<&[usize]>) -> (Vec<u64>, Vec<u64>) {
    ranks_on(Isa::detect(), sets, groups)
}

pub(super) fn ranks_on(isa: Isa, sets: Sets<'_>, groups: Option<&[usize]>) -> (Vec<u64>, Vec<u64>) {
    typed!(sets, |a, b| with_positives(
        isa,
        (a, b),
        groups,
        |positives| { epilogue::ranks(isa, a, b, positives) }
    ))
}

/// `pass` given the positives of [`ranks`]: the diagonal, or with `groups` column j's group
/// gⱼ for column j and each row's best column of its group (the largest value, on ties the
/// last column).
fn with_positives<T: Element, R>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    groups: Option<&[usize]>,
    pass: impl FnOnce((Positives<'_, T>, Positives<'_, T>)) -> R,
) -> R {
    let Some(g) = groups else {
        return on_diagonal(isa, a, b, pass);
    };
    let col_values = group_dots(isa, a, b, g);
    let mut best: Vec<Option<usize>> = vec![None; a.len()];
    for (j, &i) in g.iter().enumerate() {
        if best[i].is_none_or(|k| col_values[j] >= col_values[k]) {
            best[i] = Some(j);
        }
    }
    // (Every row has a positive: the callers' grouping is checked, e.g. by Captioned::new.)
    let row_indices: Vec<usize> = (best.into_iter())
        .map(|j| j.expect("every row has at least one positive"))
        .collect();
    let row_values: Vec<_> = row_indices.iter().map(|&j| col_values[j]).collect();
    let rows = Positives {
        values: &row_values,
        indices: &row_indices,
    };
    let cols = Positives {
        values: &col_values,
        indices: g,
    };
    pass((rows, cols))
}

/// The ranks of [`ranks`] (diagonal positives, n = m) and the flips of the jackknife of
/// Recall@K, from the same pass: for each column j, the rows i ≠ j whose rank is exactly K and
/// whose positive (i, i) is outranked by (i, j), so that leaving sample j out lifts them into
/// the top K; and for each row i, the columns j ≠ i of rank K whose positive (j, j) is
/// outranked by (i, j). Returns ((row ranks, column ranks), (column flips, row flips)). At
/// most `u32::MAX` rows (the indices it keeps are u32).
pub(crate) fn ranks_and_flips(sets: Sets<'_>, k: u64) -> RanksAndFlips {
    ranks_and_flips_on(Isa::detect(), sets, k)
}

/// The row and column counts of each of the tiles `tiles` of [`ranks`]' pass (arguments as
/// there), in order: for each of the tile's rows, the entries of its panel of columns that
/// outrank its positive, and for each of its columns, those among its rows. [`ranks_of`] adds
/// them up.
pub(crate) fn rank_tiles(
    sets: Sets<'_>,
    groups: Option<&[usize]>,
    tiles: Range<usize>,
) -> Vec<(Vec<u64>, Vec<u64>)> {
    let isa = Isa::detect();
    typed!(sets, |a, b| with_positives(
        isa,
        (a, b),
        groups,
        |positives| { epilogue::rank_tiles(isa, a, b, positives, tiles) }
    ))
}

/// [`ranks`]' (row ranks, column ranks) from the counts of all the tiles of its pass, in order
/// (`shape`: n, m, d and the element's bytes; counts add up in any order, saturating for
/// counts from outside bytes); `None` for tiles of the wrong sizes.
pub(crate) fn ranks_of(
    tiles: Vec<(Vec<u64>, Vec<u64>)>,
    shape: (usize, usize, usize, usize),
) -> Option<(Vec<u64>, Vec<u64>)> {
    let add = |total: &mut u64, part: u64| *total = total.saturating_add(part);
    epilogue::merge_panel_tiles(tiles, shape, (0, 0), (add, add))
}

/// ((row ranks, column ranks), (flips per column, flips per row)).
pub(crate) type RanksAndFlips = ((Vec<u64>, Vec<u64>), (Vec<u64>, Vec<u64>));

pub(super) fn ranks_and_flips_on(isa: Isa, sets: Sets<'_>, k: u64) -> RanksAndFlips {
    let (rows, col_ranks) = typed!(sets, |a, b| {
        // No query ranks K ≥ n (ranks are at most n − 1): keep nothing then.
        debug_assert!(a.len() <= u32::MAX as usize, "indices are kept as u32");
        let keep = if k >= a.len() as u64 { 0 } else { k };
        on_diagonal(isa, a, b, |positives| {
            epilogue::ranks_and_outrankers(isa, a, b, positives, keep)
        })
    });
    let (mut col_flips, mut row_flips) = (vec![0; col_ranks.len()], vec![0; rows.len()]);
    for (i, row) in rows.iter().enumerate() {
        if row.count == k {
            row.outrankers
                .iter()
                .for_each(|&j| col_flips[j as usize] += 1);
        }
        row_flips[i] = (row.outranked.iter())
            .filter(|&&j| col_ranks[j as usize] == k)
            .count() as u64;
    }
    let row_ranks = rows.into_iter().map(|r| r.count).collect();
    ((row_ranks, col_ranks), (col_flips, row_flips))
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
    values_in_bins_on(Isa::detect(), sets, within, wanted, ALL_TILES).concat()
}

/// [`values_in_bins`] of each of the tiles `tiles` of [`histogram`]'s pass with
/// `wanted.len()` bins, in order.
pub(crate) fn values_in_bins_tiles(
    sets: Sets<'_>,
    within: bool,
    wanted: &[bool],
    tiles: Range<usize>,
) -> Vec<Vec<f64>> {
    values_in_bins_on(Isa::detect(), sets, within, wanted, tiles)
}

pub(super) fn values_in_bins_on(
    isa: Isa,
    sets: Sets<'_>,
    within: bool,
    wanted: &[bool],
    tiles: Range<usize>,
) -> Vec<Vec<f64>> {
    typed!(sets, |a, b| epilogue::select_tiles(
        isa,
        Pairs::of(a, b, within),
        wanted,
        tiles
    ))
}

/// For each row of A, the min(k, m) columns of B with the largest dot products, best first
/// (ties: the larger index first), as (indices, dot products), row after row.
pub(crate) fn top_k(sets: Sets<'_>, k: usize) -> (Vec<usize>, Vec<f64>) {
    top_k_on(Isa::detect(), sets, k)
}

pub(super) fn top_k_on(isa: Isa, sets: Sets<'_>, k: usize) -> (Vec<usize>, Vec<f64>) {
    typed!(sets, |a, b| indices_and_values(epilogue::top_k(
        isa, a, b, k
    )))
}

/// The (index, dot product) lists of rows one after another, as indices and values (widened).
fn indices_and_values<T: Element>(lists: Vec<Vec<(T, usize)>>) -> (Vec<usize>, Vec<f64>) {
    lists
        .into_iter()
        .flatten()
        .map(|(s, j)| (j, s.to_f64()))
        .unzip()
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

/// `pass((row positives, column positives))` with the diagonal (aᵢ, bᵢ) as the positive of
/// row i and of column i (n = m), its values the kernel's own dot products.
fn on_diagonal<T: Element, R>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    pass: impl FnOnce((Positives<'_, T>, Positives<'_, T>)) -> R,
) -> R {
    let values = schedule::paired_dots(isa, a, b);
    let indices: Vec<usize> = (0..a.len()).collect();
    let diagonal = || Positives {
        values: &values,
        indices: &indices,
    };
    pass((diagonal(), diagonal()))
}

/// a_{gⱼ}·bⱼ for every column j, bitwise equal to the pass's own dot products.
fn group_dots<T: Element>(isa: Isa, a: Rows<'_, T>, b: Rows<'_, T>, groups: &[usize]) -> Vec<T> {
    let picked = a.gather(groups);
    schedule::paired_dots(isa, Rows::new(&picked, a.dim()), b)
}

/// The values in f64 (exact).
fn widen<T: Element>(values: Vec<T>) -> Vec<f64> {
    values.into_iter().map(Scalar::to_f64).collect()
}

/// The passes a plan cuts into tiles ([`crate::shard`]). A pass's tiles are its tasks (for the
/// cross-entropies and the ranks, each task against each panel of columns): fixed by the
/// shapes and the element type, never by the number of threads or of shards, so that the
/// tiles' states combined in order give the bits of the pass run in one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tiled {
    /// [`gaussian_log_mean`]'s pass.
    Gaussian { within: bool },
    /// [`cross_entropies`]' pass.
    CrossEntropies,
    /// [`histogram`]'s pass.
    Histogram { within: bool, bins: usize },
    /// [`top_k`]'s pass.
    TopK,
    /// [`ranks`]' pass without groups.
    Ranks,
}

/// The pairs each tile of a pass visits, in order.
pub(crate) fn tile_pairs(sets: Sets<'_>, pass: Tiled) -> Vec<u64> {
    typed!(sets, |a, b| {
        let (pairs, tiles) = match pass {
            Tiled::CrossEntropies | Tiled::Ranks => {
                let pairs = Pairs::Between(a, b);
                let tiles = PanelTiles::of(&pairs, epilogue::MAX_WIDE_TASKS);
                (pairs, tiles.select(0..usize::MAX))
            }
            Tiled::Gaussian { within } => {
                let pairs = Pairs::of(a, b, within);
                (pairs, schedule::row_tasks(&pairs, None))
            }
            Tiled::Histogram { within, bins } => {
                let pairs = Pairs::of(a, b, within);
                let cap = epilogue::histogram_max_tasks(bins);
                (pairs, schedule::row_tasks(&pairs, Some(cap)))
            }
            Tiled::TopK => {
                let pairs = Pairs::Between(a, b);
                (pairs, schedule::row_tasks(&pairs, None))
            }
        };
        schedule::tile_pairs(&pairs, &tiles)
    })
}

/// The log-sum-exp of each of the tiles `tiles` of [`gaussian_log_mean`]'s pass (arguments
/// as there), in order; [`gaussian_log_mean_of`] all of them is the pass's value.
pub(crate) fn gaussian_tiles(
    sets: Sets<'_>,
    (within, shift, scale, t): (bool, &[f64], f64, f64),
    tiles: Range<usize>,
) -> Vec<LogSumExp> {
    let isa = Isa::detect();
    typed!(sets, |a, b| gaussian_setup(
        isa,
        (a, b, within),
        (shift, scale),
        t,
        |pairs, parameters, norms| epilogue::gaussian_potential_tiles(
            isa, pairs, parameters, norms, tiles
        )
    ))
}

/// [`gaussian_log_mean`] from the states of all its tiles, in order.
pub(crate) fn gaussian_log_mean_of(tiles: Vec<LogSumExp>) -> f64 {
    LogSumExp::sum_of(tiles).log_mean()
}

/// The log-sum-exp of each of the tiles `tiles` of [`gaussian_log_mean_and_shares`]' pass
/// (arguments as there), in order, and the aligned blocks of their per-sample sums, in order;
/// `None` when the pass takes two passes (some exponent may fall below −700).
pub(crate) fn gaussian_share_tiles(
    sets: Sets<'_>,
    (within, shift, scale, t): (bool, &[f64], f64, f64),
    tiles: Range<usize>,
) -> Option<(Vec<LogSumExp>, Vec<SampleBlock>)> {
    let isa = Isa::detect();
    typed!(sets, |a, b| gaussian_setup(
        isa,
        (a, b, within),
        (shift, scale),
        t,
        |pairs, parameters, norms| epilogue::gaussian_share_tiles(
            isa, pairs, parameters, norms, tiles
        )
    ))
}

/// [`gaussian_log_mean_and_shares`] from the log-sum-exps of all its tiles, in order, and the
/// aligned blocks of their per-sample sums, in order, which cover every tile (at least one).
pub(crate) fn gaussian_log_mean_and_shares_of(
    tiles: Vec<LogSumExp>,
    blocks: Vec<SampleBlock>,
) -> (f64, Vec<f64>) {
    let total = LogSumExp::sum_of(tiles);
    let mut tree = TaskTree::default();
    blocks.into_iter().for_each(|block| tree.push(block));
    let samples = tree.root().expect("blocks that cover the tiles");
    (total.log_mean(), epilogue::shares(total, &samples))
}

/// One tile of [`cross_entropies`]' pass: the log-sum-exp of each of its rows over its panel of
/// columns and of each of its columns over its rows, and the target dot products it owns:
/// in the tiles of the first panel, each of its rows' (aᵢ·bᵢ against the diagonal, aᵢ·b_tᵢ
/// with labels; with groups a row's target is the mean of its columns'); in the tiles of the
/// first task (rows from 0), each of its panel's columns' (a_tⱼ·bⱼ with labels, a_gⱼ·bⱼ with
/// groups; against the diagonal a column's target is its row's).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct CrossEntropyTile {
    pub(crate) rows: Vec<OnlineLogSumExp>,
    pub(crate) cols: Vec<OnlineLogSumExp>,
    pub(crate) row_targets: Vec<f64>,
    pub(crate) col_targets: Vec<f64>,
}

impl Targets<'_> {
    /// Whether each row's target is an entry of its own (not the mean of its columns').
    fn rows_own(self) -> bool {
        !matches!(self, Targets::Groups(_))
    }

    /// Whether each column's target is an entry of its own (not its row's, on the diagonal).
    fn cols_own(self) -> bool {
        !matches!(self, Targets::Diagonal)
    }
}

/// The tiles `tiles` of [`cross_entropies`]' pass with `targets`, in order, each with its
/// panel's columns.
pub(crate) fn cross_entropy_tiles(
    sets: Sets<'_>,
    (scale, dot_bound): (f64, f64),
    targets: Targets<'_>,
    tiles: Range<usize>,
) -> Vec<(CrossEntropyTile, Range<usize>)> {
    let isa = Isa::detect();
    typed!(sets, |a, b| {
        let pairs = Pairs::Between(a, b);
        let selected = PanelTiles::of(&pairs, epilogue::MAX_WIDE_TASKS).select(tiles.clone());
        let parts = epilogue::cross_entropy_tiles(isa, (a, b), (scale, dot_bound), tiles);
        (selected.into_iter().zip(parts))
            .map(|(tile, (rows, cols))| {
                let (own, panel) = (tile.rows[0].clone(), tile.cols.clone());
                let row_targets = match targets {
                    _ if panel.start != 0 => Vec::new(),
                    Targets::Diagonal => {
                        schedule::paired_dots(isa, a.slice(own.clone()), b.slice(own))
                    }
                    Targets::Labels(t) => {
                        let picked = b.gather(&t[own.clone()]);
                        schedule::paired_dots(isa, a.slice(own), Rows::new(&picked, b.dim()))
                    }
                    Targets::Groups(_) => Vec::new(),
                };
                let col_targets = match targets {
                    Targets::Labels(t) | Targets::Groups(t) if tile.rows[0].start == 0 => {
                        group_dots(isa, a, b.slice(panel.clone()), &t[panel.clone()])
                    }
                    _ => Vec::new(),
                };
                let tile = CrossEntropyTile {
                    rows,
                    cols,
                    row_targets: widen(row_targets),
                    col_targets: widen(col_targets),
                };
                (tile, panel)
            })
            .collect()
    })
}

/// [`cross_entropies`]' two means from all the tiles of its pass in order (`shape`: n, m, d
/// and the element's bytes; `targets` the pass's, of which only the kind matters but for
/// groups, each of the m below n and every row in a group): to the bit the pass's own; `None`
/// for tiles of the wrong sizes, or whose targets outweigh their log-sum-exps.
pub(crate) fn cross_entropies_of(
    tiles: Vec<CrossEntropyTile>,
    shape: (usize, usize, usize, usize),
    scale: f64,
    targets: Targets<'_>,
) -> Option<(f64, f64)> {
    let pass = cross_entropies_of_tiles(tiles, shape, scale, targets)?;
    Some((mean(&pass.row_ce), mean(&pass.col_ce)))
}

/// Every row's and column's log-sum-exp and cross-entropy from all the tiles of
/// [`cross_entropies`]' pass (arguments and `None` as [`cross_entropies_of`]).
pub(crate) fn cross_entropies_of_tiles(
    tiles: Vec<CrossEntropyTile>,
    shape: (usize, usize, usize, usize),
    scale: f64,
    targets: Targets<'_>,
) -> Option<CrossEntropies> {
    let (n, m, d, bytes) = shape;
    let plan = PanelTiles::new((n, m), (d, bytes), epilogue::MAX_WIDE_TASKS);
    // How many row and column targets tile k owns.
    let owned = |k: usize| {
        let tile = plan.get(k);
        let rows = tile.cols.start == 0 && targets.rows_own();
        let cols = tile.rows[0].start == 0 && targets.cols_own();
        (
            if rows { tile.rows[0].len() } else { 0 },
            if cols { tile.cols.len() } else { 0 },
        )
    };
    if plan.len() != Some(tiles.len())
        || (tiles.iter().enumerate())
            .any(|(k, tile)| (tile.row_targets.len(), tile.col_targets.len()) != owned(k))
    {
        return None;
    }
    let (mut row_targets, mut col_targets) = (Vec::new(), Vec::new());
    let mut parts = Vec::with_capacity(tiles.len());
    for tile in tiles {
        row_targets.extend(tile.row_targets);
        col_targets.extend(tile.col_targets);
        parts.push((tile.rows, tile.cols));
    }
    let (row_lse, col_lse) = epilogue::merge_cross_entropy_tiles(parts, shape)?;
    match targets {
        Targets::Diagonal => col_targets.clone_from(&row_targets),
        Targets::Groups(g) => row_targets = group_means(g, &col_targets, n),
        Targets::Labels(_) => {}
    }
    let values = |lse: Vec<OnlineLogSumExp>| -> Vec<f64> {
        lse.into_iter().map(OnlineLogSumExp::value).collect()
    };
    let (row_lse, col_lse) = (values(row_lse), values(col_lse));
    let row_ce = cross_entropy_of(&row_lse, row_targets, scale);
    let col_ce = cross_entropy_of(&col_lse, col_targets, scale);
    // A target is one of its row's (column's) logits or a mean of them, so no cross-entropy
    // is below 0 by more than the exponentials' error (a relative 1e-8 in f32, the kernel's
    // tested bound; a hundredfold margin here), and none is infinite: tiles from outside
    // bytes may claim anything.
    let plausible = |lse: &[f64], ce: &[f64]| {
        (lse.iter().zip(ce)).all(|(l, c)| c.is_finite() && *c >= -1e-6 * (1.0 + l.abs()))
    };
    if !plausible(&row_lse, &row_ce) || !plausible(&col_lse, &col_ce) {
        return None;
    }
    Some(CrossEntropies {
        row_lse,
        col_lse,
        row_ce,
        col_ce,
    })
}

/// One tile of the second pass of [`cross_entropies_left_out`] (the tiles of
/// [`cross_entropies`]' pass): its rows' and its panel's columns' sums and large shares.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct LeftOutTile(epilogue::LeaveOneOutTile);

/// The tiles `tiles` of [`cross_entropies_left_out`]'s second pass, given the first's
/// log-sum-exps (`first`, of n = m rows), in order: for logit scale s and `dot_bound` ≥ every
/// |aᵢ·bⱼ|. `None` for log-sum-exps that are not those of the sets' first pass, as far as a
/// tile can tell ([`leave_one_out_tiles`](epilogue::leave_one_out_tiles)).
pub(crate) fn left_out_tiles(
    sets: Sets<'_>,
    bounds: (f64, f64),
    first: &CrossEntropies,
    tiles: Range<usize>,
) -> Option<Vec<LeftOutTile>> {
    let isa = Isa::detect();
    let lse = (&first.row_lse[..], &first.col_lse[..]);
    let tiles = typed!(sets, |a, b| epilogue::leave_one_out_tiles(
        isa,
        (a, b),
        bounds,
        lse,
        tiles
    ))?;
    Some(tiles.into_iter().map(LeftOutTile).collect())
}

/// [`cross_entropies_left_out`] from all the tiles of its second pass, in order (`shape`: n =
/// m, d and the element's bytes), and the first pass's cross-entropies of the rows and of the
/// columns: to the bit the in-memory pass's own. `None` for tiles or cross-entropies of the
/// wrong sizes, values that are not finite, and as
/// [`merge_leave_one_out_tiles`](epilogue::merge_leave_one_out_tiles).
pub(crate) fn left_out_of(
    tiles: Vec<LeftOutTile>,
    shape: (usize, usize, usize, usize),
    (row_ce, col_ce): (&[f64], &[f64]),
) -> Option<LeftOut> {
    if (row_ce.len(), col_ce.len()) != (shape.0, shape.1) {
        return None;
    }
    let tiles = tiles.into_iter().map(|tile| tile.0).collect();
    let (by_col, by_row) = epilogue::merge_leave_one_out_tiles(tiles, shape)?;
    let left_out = LeftOut {
        means: (mean(row_ce), mean(col_ce)),
        rows: deviations(row_ce, &by_col),
        cols: deviations(col_ce, &by_row),
    };
    let finite = [left_out.means.0, left_out.means.1]
        .iter()
        .all(|v| v.is_finite())
        && (left_out.rows.iter().chain(&left_out.cols)).all(|v| v.is_finite());
    finite.then_some(left_out)
}

/// The counts of each of the tiles `tiles` of [`histogram`]'s pass (arguments as there), in
/// order; [`histogram_of`] all of them is the pass's.
pub(crate) fn histogram_tiles(
    sets: Sets<'_>,
    within: bool,
    (bins, centre): (usize, f64),
    tiles: Range<usize>,
) -> Vec<CosineCounts> {
    let isa = Isa::detect();
    typed!(sets, |a, b| epilogue::histogram_tiles(
        isa,
        Pairs::of(a, b, within),
        (bins, centre),
        tiles
    ))
}

/// [`histogram`] from the counts of all its tiles, in order.
pub(crate) fn histogram_of(tiles: Vec<CosineCounts>, bins: usize, centre: f64) -> CosineCounts {
    CosineCounts::sum_of(tiles, bins, centre)
}

/// [`top_k`] of the rows of each of the tiles `tiles` of its pass, in order: their indices and
/// dot products, row after row, as [`top_k`] gives them.
pub(crate) fn top_k_tiles(
    sets: Sets<'_>,
    k: usize,
    tiles: Range<usize>,
) -> Vec<(Vec<usize>, Vec<f64>)> {
    let isa = Isa::detect();
    typed!(sets, |a, b| epilogue::top_k_tiles(isa, a, b, k, tiles)
        .into_iter()
        .map(indices_and_values)
        .collect())
}
