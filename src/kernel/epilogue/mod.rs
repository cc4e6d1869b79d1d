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
    LeaveOneOutTile, cross_entropies, cross_entropy_tiles, leave_one_out_logs, leave_one_out_tiles,
    merge_cross_entropy_tiles, merge_leave_one_out_tiles,
};
pub(crate) use gaussian::{
    SampleBlock, SampleSums, TaskTree, gaussian_potential, gaussian_potential_tiles,
    gaussian_share_tiles, gaussian_shares, shares,
};
pub(crate) use grouped_cross_entropy::{
    Runs, cross_entropies_by_runs, removed_from_columns, run_deviations,
};
pub(crate) use histogram::{CosineCounts, bin_of, histogram, histogram_max_tasks, histogram_tiles};
pub(crate) use matrix::dot_matrix;
pub(crate) use rank::{Positives, rank_tiles, ranks, ranks_and_outrankers};
pub(crate) use select::select_tiles;
pub(crate) use top_k::{top_k, top_k_tiles};

/// The widest block an epilogue receives (scratch space is sized by it).
pub(super) use super::schedule::MAX_BLOCK_COLS;

/// Tasks for an epilogue whose accumulators are wide (a value per column of B, or per bin):
/// their number is bounded so that the memory stays O(16 · m).
pub(super) const MAX_WIDE_TASKS: usize = 16;

use std::ops::Range;

use crate::kernel::{Element, Epilogue, Isa, Pairs, PanelTiles, Rows, Tile, row_tasks, run};

/// The per-task state of an epilogue that keeps a value per row of its task and a value per
/// column of its tile.
struct RowsAndCols<R, C> {
    first_row: usize,
    rows: Vec<R>,
    first_col: usize,
    cols: Vec<C>,
}

impl<R: Clone, C: Clone> RowsAndCols<R, C> {
    /// The state of a tile between two sets (one range of rows), every value at its start.
    fn new(tile: &Tile, (row_init, col_init): (R, C)) -> Self {
        debug_assert_eq!(tile.rows.len(), 1, "between two sets a task owns one range");
        let rows = &tile.rows[0];
        Self {
            first_row: rows.start,
            rows: vec![row_init; rows.len()],
            first_col: tile.cols.start,
            cols: vec![col_init; tile.cols.len()],
        }
    }
}

impl<R, C> RowsAndCols<R, C> {
    /// The value of row i (a row of this task).
    #[inline(always)]
    fn row(&mut self, i: usize) -> &mut R {
        &mut self.rows[i - self.first_row]
    }

    /// The values of the columns `cols` of B (columns of this tile).
    #[inline(always)]
    fn cols(&mut self, cols: Range<usize>) -> &mut [C] {
        &mut self.cols[cols.start - self.first_col..cols.end - self.first_col]
    }
}

/// Runs a pass of A × B whose epilogue keeps [`RowsAndCols`], every task over all the
/// columns: rows start at `row_init`, columns at `col_init`; the tasks' column values are
/// combined by `merge`, in task order.
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
    let pairs = Pairs::Between(a, b);
    let tasks = row_tasks(&pairs, Some(MAX_WIDE_TASKS))
        .into_iter()
        .map(|tile| {
            let acc = RowsAndCols::new(&tile, (row_init.clone(), col_init.clone()));
            (tile, acc)
        })
        .collect();
    let parts = run(isa, &pairs, tasks, epilogue);
    let mut rows = Vec::with_capacity(a.len());
    let mut total = vec![col_init; b.len()];
    for part in parts {
        rows.extend(part.rows);
        for (total, part) in total.iter_mut().zip(part.cols) {
            merge(total, part);
        }
    }
    (rows, total)
}

/// The (rows, columns) of the tiles `selected` of a pass whose epilogue keeps
/// [`RowsAndCols`] ([`PanelTiles`]: each row task against each panel of columns), in order.
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
    let tasks = PanelTiles::of(&pairs, MAX_WIDE_TASKS)
        .select(selected)
        .into_iter()
        .map(|tile| {
            let acc = RowsAndCols::new(&tile, (row_init.clone(), col_init.clone()));
            (tile, acc)
        })
        .collect();
    let parts = run(isa, &pairs, tasks, epilogue).into_iter();
    parts.map(|part| (part.rows, part.cols)).collect()
}

/// The rows and columns of a pass from the (rows, columns) of all its [`PanelTiles`] `tiles`
/// (n × m, dimension d, elements of `bytes` bytes), in order: each row's parts combined by
/// `merge_row` into `init.0` panel after panel, each column's by `merge_col` from `init.1`
/// task after task. `None` unless every tile's values are as many as its rows and columns
/// (tiles from outside bytes), checked before anything is allocated.
pub(crate) fn merge_panel_tiles<R: Clone, P, C: Clone>(
    tiles: Vec<(Vec<P>, Vec<C>)>,
    (n, m, d, bytes): (usize, usize, usize, usize),
    init: (R, C),
    (merge_row, merge_col): (impl Fn(&mut R, P), impl Fn(&mut C, C)),
) -> Option<(Vec<R>, Vec<C>)> {
    let plan = PanelTiles::new((n, m), (d, bytes), MAX_WIDE_TASKS);
    let sized = plan.len() == Some(tiles.len())
        && (tiles.iter().enumerate()).all(|(k, (rows, cols))| {
            let tile = plan.get(k);
            rows.len() == tile.rows[0].len() && cols.len() == tile.cols.len()
        });
    if !sized {
        return None;
    }
    let (mut rows, mut cols) = (vec![init.0; n], vec![init.1; m]);
    for (k, (part_rows, part_cols)) in tiles.into_iter().enumerate() {
        let tile = plan.get(k);
        for (total, part) in rows[tile.rows[0].clone()].iter_mut().zip(part_rows) {
            merge_row(total, part);
        }
        for (total, part) in cols[tile.cols].iter_mut().zip(part_cols) {
            merge_col(total, part);
        }
    }
    Some((rows, cols))
}
