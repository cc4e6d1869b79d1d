//! The rank of each pair's similarity in its row and in its column: retrieval recall.

use std::ops::Range;

use super::{RowsAndCols, rows_and_cols, rows_and_cols_tiles};
use crate::kernel::{Block, Element, Epilogue, Isa, Rows, Scratch};

/// The positive entry of each row (or column) of A × B: its similarity, exactly as the kernel
/// computes it, and its index among the columns (rows).
pub(crate) struct Positives<'a, T> {
    pub(crate) values: &'a [T],
    pub(crate) indices: &'a [usize],
}

/// Counts, for each row i and each column j, the entries that outrank its positive: a larger
/// similarity, or an equal one at a larger index (the order of a stable argsort). With `KEEP`,
/// it also keeps what the jackknife of Recall@`keep` needs ([`Ranked`]): whether leaving a
/// sample out lifts a query into the top K depends on the query's final rank, known only at
/// the end, so the pass keeps the first `keep` outrankers of every query, which are all of
/// them for a query that ends at rank K.
struct Ranks<'a, T, const KEEP: bool> {
    rows: Positives<'a, T>,
    cols: Positives<'a, T>,
    keep: u64,
}

/// One row of a pass of [`Ranks`]: the entries that outrank its positive, and with `KEEP` the
/// first `keep` of them (column indices) and the columns whose positive it outranked while
/// they had fewer than `keep` outrankers in its task (so every outranker of a column that ends
/// at rank K is among some rows' `outranked`, its task's count having stayed ≤ K).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ranked {
    pub(crate) count: u64,
    pub(crate) outrankers: Vec<u32>,
    pub(crate) outranked: Vec<u32>,
}

type Acc = RowsAndCols<Ranked, u64>;

/// Whether the similarity `s` at index `index` outranks a positive of similarity `target` at
/// index `at`: larger, or equal at a larger index (the order of a stable argsort).
#[inline(always)]
fn outranks<T: Element>(s: T, index: usize, target: T, at: usize) -> bool {
    s > target || (s == target && index > at)
}

impl<T: Element, const KEEP: bool> Epilogue<T> for Ranks<'_, T, KEEP> {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, _: &mut Scratch) {
        let keep = self.keep;
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let (target, at) = (self.rows.values[i], self.rows.indices[i]);
            let above: u64 = dots
                .iter()
                .enumerate()
                .map(|(k, &s)| u64::from(outranks(s, first + k, target, at)))
                .sum();
            let row = &mut acc.rows[i - acc.first_row];
            if KEEP && above > 0 && row.count < keep {
                let room = keep as usize - row.outrankers.len();
                let found = (first..first + dots.len())
                    .zip(dots)
                    .filter(|&(j, &s)| outranks(s, j, target, at))
                    .map(|(j, _)| index(j));
                row.outrankers.extend(found.take(room));
            }
            row.count += above;
            let col_targets = &self.cols.values[first..][..dots.len()];
            let col_at = &self.cols.indices[first..][..dots.len()];
            let col_counts = &mut acc.cols[first - acc.first_col..][..dots.len()];
            let mut below_keep = false;
            for (((count, &s), &target), &at) in
                col_counts.iter_mut().zip(dots).zip(col_targets).zip(col_at)
            {
                let outranked = outranks(s, i, target, at);
                if KEEP {
                    below_keep |= outranked & (*count < keep);
                }
                *count += u64::from(outranked);
            }
            if KEEP && below_keep {
                // The columns this row outranked while below `keep` (now at most `keep`).
                let newly = (0..dots.len())
                    .filter(|&c| {
                        col_counts[c] <= keep && outranks(dots[c], i, col_targets[c], col_at[c])
                    })
                    .map(|c| index(first + c));
                acc.rows[i - acc.first_row].outranked.extend(newly);
            }
        }
    }
}

/// A row or column index as kept in [`Ranked`] (its door takes at most `u32::MAX` rows).
#[inline(always)]
fn index(i: usize) -> u32 {
    i as u32
}

/// (rank of each row's positive in its row, rank of each column's positive in its column):
/// how many entries outrank it, ties going to the larger index. The positives' values must be
/// the kernel's own dot products ([`paired_dots`](crate::kernel::paired_dots)), so that ties
/// are exact.
pub(crate) fn ranks<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    (rows, cols): (Positives<'_, T>, Positives<'_, T>),
) -> (Vec<u64>, Vec<u64>) {
    let epilogue = Ranks::<T, false> {
        rows,
        cols,
        keep: 0,
    };
    let (rows, cols) = ranked(isa, (a, b), &epilogue);
    (rows.into_iter().map(|r| r.count).collect(), cols)
}

/// The row ranks and column counts of each of the tasks `tiles` of [`ranks`]' pass, in task
/// order: the complete rank of each of a task's rows, and the entries of each column that
/// outrank its positive among the task's rows ([`ranks`] adds these in task order; they are
/// counts, so any order gives the same).
pub(crate) fn rank_tiles<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    (rows, cols): (Positives<'_, T>, Positives<'_, T>),
    tiles: Range<usize>,
) -> Vec<(Vec<u64>, Vec<u64>)> {
    let epilogue = Ranks::<T, false> {
        rows,
        cols,
        keep: 0,
    };
    rows_and_cols_tiles(isa, (a, b), &epilogue, (Ranked::default(), 0), tiles)
        .into_iter()
        .map(|(rows, cols)| (rows.into_iter().map(|r| r.count).collect(), cols))
        .collect()
}

/// The ranks of [`ranks`] with the outrankers that Recall@`keep`'s jackknife needs
/// ([`Ranked`]), from the same pass.
pub(crate) fn ranks_and_outrankers<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    (rows, cols): (Positives<'_, T>, Positives<'_, T>),
    keep: u64,
) -> (Vec<Ranked>, Vec<u64>) {
    ranked(isa, (a, b), &Ranks::<T, true> { rows, cols, keep })
}

fn ranked<T: Element, const KEEP: bool>(
    isa: Isa,
    sets: (Rows<'_, T>, Rows<'_, T>),
    epilogue: &Ranks<'_, T, KEEP>,
) -> (Vec<Ranked>, Vec<u64>) {
    rows_and_cols(
        isa,
        sets,
        epilogue,
        (Ranked::default(), 0),
        |total, part| *total += part,
    )
}
