//! The cross-entropies' log-sum-exps with, from the same pass, each row's log-sum-exp over
//! every group of columns and each column's over every group of rows: what leaving a group
//! of samples out takes from every other row and column, for a delete-a-group jackknife at
//! the cost of one pass.

use std::ops::Range;

use rayon::prelude::*;

use super::cross_entropy::{
    CrossEntropy, MOST, PanelLogSumExp, Parts, Shifts, TINY_REST, add_col_parts,
};
use super::{MAX_WIDE_TASKS, RowsAndCols};
use crate::kernel::exp::exp_expm1;
use crate::kernel::logsumexp::OnlineLogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Rows, Scratch, lanes, row_tasks, run};

/// n samples dealt into g runs of consecutive indices: run h holds ⌊h·n/g⌋ ≤ i < ⌊(h+1)·n/g⌋,
/// so that the sizes differ by at most one (1 ≤ g ≤ n).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs {
    n: usize,
    g: usize,
}

impl Runs {
    /// g runs of n samples (1 ≤ g ≤ n).
    pub(crate) fn new(n: usize, g: usize) -> Self {
        debug_assert!(1 <= g && g <= n);
        Self { n, g }
    }

    /// The number of runs.
    pub(crate) fn len(self) -> usize {
        self.g
    }

    /// The first index of run h (h ≤ g: run g starts at n).
    fn start(self, h: usize) -> usize {
        (h as u128 * self.n as u128 / self.g as u128) as usize
    }

    /// The indices of run h.
    pub(crate) fn range(self, h: usize) -> Range<usize> {
        self.start(h)..self.start(h + 1)
    }

    /// The run of index i < n: the largest h with ⌊h·n/g⌋ ≤ i, that is ⌊((i + 1)·g − 1)/n⌋.
    pub(crate) fn of(self, i: usize) -> usize {
        (((i as u128 + 1) * self.g as u128 - 1) / self.n as u128) as usize
    }

    /// The pieces of a non-empty `range` of indices in each run it meets, in order, with
    /// their runs.
    fn pieces(self, range: Range<usize>) -> impl Iterator<Item = (usize, Range<usize>)> {
        (self.of(range.start)..=self.of(range.end - 1)).map(move |h| {
            let run = self.range(h);
            (h, run.start.max(range.start)..run.end.min(range.end))
        })
    }
}

/// A task's state: the log-sum-exps of [`CrossEntropy`], and their parts by runs.
struct Acc {
    total: RowsAndCols<PanelLogSumExp, OnlineLogSumExp>,
    /// Row i's log-sum-exp over the columns of each run: g per row of the task, while it runs
    /// (allocated at its first block, folded into `row_removed` and freed at its end).
    row_runs: Vec<OnlineLogSumExp>,
    /// For each run h, Σ log(1 − Pₖₕ) over the task's rows k outside run h, once it is done.
    row_removed: Vec<f64>,
    /// The first run the task's rows meet.
    first_run: usize,
    /// Each column's log-sum-exp over the task's rows of each run they meet, from
    /// `first_run` on: m per run.
    col_runs: Vec<OnlineLogSumExp>,
    /// The current block's columns cut by runs (kept to reuse its allocation).
    col_pieces: Vec<(usize, Range<usize>)>,
}

/// [`CrossEntropy`], with every part also added to its run's accumulator.
struct Grouped {
    plain: CrossEntropy,
    runs: Runs,
    /// The number of columns (m = n).
    m: usize,
}

/// The parts of one block as the grouped pass adds them: to the totals, each row's to its
/// runs of columns, and the columns' to the one run of the block's rows, if they are in one.
struct BlockParts<'a> {
    acc: &'a mut Acc,
    g: usize,
    m: usize,
    cols: Range<usize>,
    /// The block's columns cut by runs, with their runs.
    col_pieces: &'a [(usize, Range<usize>)],
    rows_run: Option<usize>,
}

impl Parts for BlockParts<'_> {
    #[inline(always)]
    fn open_panel(&mut self, i: usize) {
        self.acc.total.open_panel(i);
    }

    #[inline(always)]
    fn row_part(&mut self, i: usize, shift: f64, exps: &[f64], z: Option<&[f64]>, sum: f64) {
        self.acc.total.row(i).add(shift, sum);
        let first = (i - self.acc.total.first_row) * self.g;
        let row_runs = &mut self.acc.row_runs[first..first + self.g];
        if let [(h, _)] = self.col_pieces {
            row_runs[*h].add(shift, sum);
            return;
        }
        for (h, piece) in self.col_pieces {
            let h = *h;
            let piece = piece.start - self.cols.start..piece.end - self.cols.start;
            let part = lanes::sum(&exps[piece.clone()]);
            match z {
                // The piece lies far below the row's maximum in the block: shifted by its own.
                Some(z) if part < TINY_REST => {
                    let max = lanes::max(&z[piece.clone()]);
                    row_runs[h].add(max, lanes::sum_of(&z[piece], |z| exp_expm1(z - max).0));
                }
                _ => row_runs[h].add(shift, part),
            }
        }
    }

    #[inline(always)]
    fn col_parts(&mut self, cols: Range<usize>, shifts: Shifts<'_>, sums: &[f64]) {
        add_col_parts(self.acc.total.cols(cols.clone()), shifts, sums);
        if let Some(h) = self.rows_run {
            let first = (h - self.acc.first_run) * self.m;
            add_col_parts(
                &mut self.acc.col_runs[first + cols.start..first + cols.end],
                shifts,
                sums,
            );
        }
    }
}

/// The column parts of some of a block's rows, all in one run, for that run's accumulators.
struct RunColumns<'a>(&'a mut [OnlineLogSumExp]);

impl Parts for RunColumns<'_> {
    #[inline(always)]
    fn row_part(&mut self, _: usize, _: f64, _: &[f64], _: Option<&[f64]>, _: f64) {}

    #[inline(always)]
    fn col_parts(&mut self, cols: Range<usize>, shifts: Shifts<'_>, sums: &[f64]) {
        add_col_parts(&mut self.0[cols], shifts, sums);
    }
}

impl<T: Element> Epilogue<T> for Grouped {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        if acc.row_runs.is_empty() {
            acc.row_runs = vec![OnlineLogSumExp::EMPTY; acc.total.rows.len() * self.runs.len()];
        }
        let rows = block.rows();
        let (first_run, last_run) = (self.runs.of(rows.start), self.runs.of(rows.end - 1));
        let rows_run = (first_run == last_run).then_some(first_run);
        let mut col_pieces = std::mem::take(&mut acc.col_pieces);
        col_pieces.clear();
        col_pieces.extend(self.runs.pieces(block.cols()));
        let mut parts = BlockParts {
            acc,
            g: self.runs.len(),
            m: self.m,
            cols: block.cols(),
            col_pieces: &col_pieces,
            rows_run,
        };
        self.plain.parts(block, scratch, &mut parts);
        acc.col_pieces = col_pieces;
        if rows_run.is_none() {
            // The block's rows meet several runs (once per run boundary and column block):
            // their column parts again, run by run.
            for (h, piece) in self.runs.pieces(rows) {
                let first = (h - acc.first_run) * self.m;
                let columns = &mut acc.col_runs[first..first + self.m];
                self.plain
                    .parts(&block.with_rows(piece), scratch, &mut RunColumns(columns));
            }
        }
    }

    /// The task's rows are complete: what each run takes from them, and their parts freed.
    fn finish_task(&self, acc: &mut Acc) {
        let (first, g) = (acc.total.first_row, self.runs.len());
        if !acc.row_runs.is_empty() {
            let rows = &acc.total.rows;
            let totals = |k: usize| rows[k - first].total().value();
            let parts = |k: usize, h: usize| acc.row_runs[(k - first) * g + h];
            let rows = first..first + rows.len();
            add_removed(&mut acc.row_removed, rows, totals, parts, self.runs);
        }
        acc.row_runs = Vec::new();
    }
}

/// The log-sum-exps of the cross-entropies of n paired rows and columns, with their parts by
/// the runs of `runs`.
pub(crate) struct RunLogSumExps {
    /// Each row's log-sum-exp, [`cross_entropies`](super::cross_entropies)' to the bit.
    pub(crate) rows: Vec<OnlineLogSumExp>,
    /// Each column's log-sum-exp, likewise.
    pub(crate) cols: Vec<OnlineLogSumExp>,
    /// For each run h, Σ log(1 − Pₖₕ) over the rows k outside it ([`add_removed`]).
    pub(crate) row_removed: Vec<f64>,
    /// Column j's log-sum-exp over the rows of run h, at h·n + j.
    pub(crate) col_runs: Vec<OnlineLogSumExp>,
}

/// [`cross_entropies`](super::cross_entropies) of n rows against n columns, and from the same
/// pass what leaving each run out takes from the other rows (each row's log-sum-exp over
/// every run of columns, folded at the end of its task) and each column's log-sum-exp over
/// every run of rows: 16·g·n bytes for the columns (twice while the tasks' parts merge) and
/// 16·g bytes per row of the running tasks; the blocks whose rows cross a run boundary have
/// their column parts computed again.
pub(crate) fn cross_entropies_by_runs<T: Element>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    (scale, dot_bound): (f64, f64),
    runs: Runs,
) -> RunLogSumExps {
    debug_assert_eq!(a.len(), b.len());
    let (m, g) = (b.len(), runs.len());
    let empty = OnlineLogSumExp::EMPTY;
    let pairs = Pairs::Between(a, b);
    let tasks = row_tasks(&pairs, Some(MAX_WIDE_TASKS))
        .into_iter()
        .map(|tile| {
            let rows = tile.rows[0].clone();
            let (first_run, run_count) = if rows.is_empty() {
                (0, 0)
            } else {
                let first = runs.of(rows.start);
                (first, runs.of(rows.end - 1) + 1 - first)
            };
            let acc = Acc {
                total: RowsAndCols::new(&tile, (PanelLogSumExp::EMPTY, empty)),
                row_runs: Vec::new(),
                row_removed: vec![0.0; g],
                first_run,
                col_runs: vec![empty; run_count * m],
                col_pieces: Vec::new(),
            };
            (tile, acc)
        })
        .collect();
    let epilogue = Grouped {
        plain: CrossEntropy::new(scale, dot_bound),
        runs,
        m,
    };
    let parts = run(isa, &pairs, tasks, &epilogue);
    let (mut row_removed, mut col_runs) = (vec![0.0; g], vec![empty; g * m]);
    let (mut rows, mut cols) = (Vec::with_capacity(m), vec![empty; m]);
    for part in parts {
        row_removed
            .iter_mut()
            .zip(&part.row_removed)
            .for_each(|(r, p)| *r += p);
        for (l, task_cols) in part.col_runs.chunks_exact(m).enumerate() {
            let h = part.first_run + l;
            for (total, &p) in col_runs[h * m..(h + 1) * m].iter_mut().zip(task_cols) {
                total.merge(p);
            }
        }
        rows.extend(part.total.rows.into_iter().map(PanelLogSumExp::total));
        for (total, p) in cols.iter_mut().zip(part.total.cols) {
            total.merge(p);
        }
    }
    RunLogSumExps {
        rows,
        cols,
        row_removed,
        col_runs,
    }
}

/// Adds, for each run h, Σ log(1 − Pₖₕ) over the rows k of `rows` outside run h, to
/// `removed`: Pₖₕ = exp(lseₖ,ₕ − lseₖ) is the share of run h's columns in row k's sum, what
/// row k loses when run h leaves. `total(k)` is lseₖ and `part(k, h)` row k's log-sum-exp over
/// run h. Each log(1 − P) is `ln_1p(−P)` up to P = 3/4 and above, where 1 − P would cancel,
/// the log-sum-exp of the row's other runs minus lseₖ; at most one run of a row can be above.
fn add_removed(
    removed: &mut [f64],
    rows: Range<usize>,
    total: impl Fn(usize) -> f64,
    part: impl Fn(usize, usize) -> OnlineLogSumExp,
    runs: Runs,
) {
    let g = runs.len();
    for k in rows {
        let (total, own) = (total(k), runs.of(k));
        // exp(shift − lseₖ), computed again only when a part's shift differs.
        let mut scale = (f64::NAN, f64::NAN);
        for (h, removed) in removed.iter_mut().enumerate().filter(|&(h, _)| h != own) {
            let (shift, sum) = part(k, h).shift_and_sum();
            if shift != scale.0 {
                scale = (shift, (shift - total).exp());
            }
            let share = sum * scale.1;
            *removed += if share <= MOST {
                (-share).ln_1p()
            } else {
                let mut rest = OnlineLogSumExp::EMPTY;
                (0..g)
                    .filter(|&o| o != h)
                    .for_each(|o| rest.merge(part(k, o)));
                rest.value() - total
            };
        }
    }
}

/// [`add_removed`] over all n columns, given each column's log-sum-exp `lse` and the pass's
/// parts over runs of rows `col_runs` (h·n + j), in parallel chunks added in order (the
/// result does not depend on the thread count).
pub(crate) fn removed_from_columns(
    lse: &[f64],
    col_runs: &[OnlineLogSumExp],
    runs: Runs,
) -> Vec<f64> {
    const CHUNK: usize = 1024;
    let (n, g) = (lse.len(), runs.len());
    let chunks: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut removed = vec![0.0; g];
            let cols = c * CHUNK..n.min((c + 1) * CHUNK);
            add_removed(
                &mut removed,
                cols,
                |j| lse[j],
                |j, h| col_runs[h * n + j],
                runs,
            );
            removed
        })
        .collect();
    let mut removed = vec![0.0; g];
    for chunk in chunks {
        removed.iter_mut().zip(chunk).for_each(|(r, c)| *r += c);
    }
    removed
}

/// For each run h, how the mean cross-entropy over rows (or over columns) moves when the
/// samples of run h leave: their own cross-entropies go, and every other row k loses the
/// columns of run h from its log-sum-exp ([`add_removed`]):
///
/// ```text
/// L₋ₕ − L = (Σ_{k∉h} log(1 − Pₖₕ) − Σ_{k∈h} (ℓₖ − L)) / (n − nₕ)
/// ```
///
/// `ce` holds ℓ and `removed` the sums Σ_{k∉h} log(1 − Pₖₕ).
pub(crate) fn run_deviations(ce: &[f64], removed: &[f64], runs: Runs) -> Vec<f64> {
    let n = ce.len();
    let mean = ce.iter().sum::<f64>() / n as f64;
    (0..runs.len())
        .map(|h| {
            let run = runs.range(h);
            let inside: f64 = ce[run.clone()].iter().map(|l| l - mean).sum();
            (removed[h] - inside) / (n - run.len()) as f64
        })
        .collect()
}
