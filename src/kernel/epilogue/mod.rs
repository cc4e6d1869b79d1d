//! The epilogues: what a pass does with each block of dot products, and the pass itself.
//!
//! Each module holds one [`Epilogue`](super::Epilogue) and the function that runs its pass:
//! tasks, accumulators, and the fixed-order merge of the tasks' partial results.

mod cross_entropy;
mod gaussian;
mod grouped_cross_entropy;
mod histogram;
mod matrix;
mod rank;
mod select;
mod top_k;

pub(crate) use cross_entropy::{
    cross_entropies, cross_entropy_tiles, leave_one_out_logs, merge_cross_entropy_tiles,
};
pub(crate) use gaussian::{gaussian_potential, gaussian_potential_tiles, gaussian_shares};
pub(crate) use grouped_cross_entropy::{
    Runs, cross_entropies_by_runs, removed_from_columns, run_deviations,
};
pub(crate) use histogram::{CosineCounts, histogram, histogram_max_tasks, histogram_tiles};
pub(crate) use matrix::dot_matrix;
pub(crate) use rank::{Positives, rank_tiles, ranks, ranks_and_outrankers};
pub(crate) use select::select;
pub(crate) use top_k::{top_k, top_k_tiles};

/// The widest block an epilogue receives (scratch space is sized by it).
pub(super) use super::schedule::MAX_BLOCK_COLS;

/// Tasks for an epilogue whose accumulators are wide (a value per column of B, or per bin):
/// their number is bounded so that the memory stays O(16 · m).
pub(super) const MAX_WIDE_TASKS: usize = 16;

use std::ops::Range;

use crate::kernel::{ALL_TILES, Element, Epilogue, Isa, Pairs, Rows, row_tasks, run, tiles};

/// The per-task state of an epilogue that keeps a value per row of its task and a value per
/// column of B.
struct RowsAndCols<R, C> {
    first_row: usize,
    rows: Vec<R>,
    cols: Vec<C>,
}

impl<R, C> RowsAndCols<R, C> {
    /// The value of row i (a row of this task).
    #[inline(always)]
    fn row(&mut self, i: usize) -> &mut R {
        &mut self.rows[i - self.first_row]
    }
}

/// Runs a pass of A × B whose epilogue keeps [`RowsAndCols`]: rows start at `row_init`,
/// columns at `col_init`; the tasks' column values are combined by `merge`, in task order.
fn rows_and_cols<T, R, C, E>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    epilogue: &E,
    (row_init, col_init): (R, C),
    merge: impl Fn(&mut C, C),
) -> (Vec<R>, Vec<C>)
where
    T: Element,
    R: Clone + Send,
    C: Clone + Send,
    E: Epilogue<T, Acc = RowsAndCols<R, C>>,
{
    let parts = rows_and_cols_tiles(
        isa,
        (a, b),
        epilogue,
        (row_init, col_init.clone()),
        ALL_TILES,
    );
    merge_rows_and_cols(parts, b.len(), col_init, merge)
}

/// The rows and the `cols` columns of the parts (rows, columns) of a pass, in task order: the
/// rows one after another, each column combined by `merge` from `col_init`.
fn merge_rows_and_cols<R, C: Clone>(
    parts: impl IntoIterator<Item = (Vec<R>, Vec<C>)>,
    cols: usize,
    col_init: C,
    merge: impl Fn(&mut C, C),
) -> (Vec<R>, Vec<C>) {
    let mut rows = Vec::new();
    let mut total = vec![col_init; cols];
    for (part_rows, part_cols) in parts {
        rows.extend(part_rows);
        for (total, part) in total.iter_mut().zip(part_cols) {
            merge(total, part);
        }
    }
    (rows, total)
}

/// The (rows, columns) of the tasks `selected` of a pass whose epilogue keeps
/// [`RowsAndCols`], in task order.
fn rows_and_cols_tiles<T, R, C, E>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    epilogue: &E,
    (row_init, col_init): (R, C),
    selected: Range<usize>,
) -> Vec<(Vec<R>, Vec<C>)>
where
    T: Element,
    R: Clone + Send,
    C: Clone + Send,
    E: Epilogue<T, Acc = RowsAndCols<R, C>>,
{
    let pairs = Pairs::Between(a, b);
    let tasks = tiles(row_tasks(&pairs, Some(MAX_WIDE_TASKS)), selected)
        .into_iter()
        .map(|rows| {
            debug_assert_eq!(rows.len(), 1, "between two sets a task owns one range");
            let acc = RowsAndCols {
                first_row: rows[0].start,
                rows: vec![row_init.clone(); rows[0].len()],
                cols: vec![col_init.clone(); b.len()],
            };
            (rows, acc)
        })
        .collect();
    let parts = run(isa, &pairs, tasks, epilogue).into_iter();
    parts.map(|part| (part.rows, part.cols)).collect()
}
