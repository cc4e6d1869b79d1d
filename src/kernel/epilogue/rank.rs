//! The rank of each pair's similarity in its row and in its column: retrieval recall.

use super::{RowsAndCols, rows_and_cols};
use crate::kernel::{Block, Element, Epilogue, Isa, Rows, Scratch};

/// The positive entry of each row (or column) of A × B: its similarity, exactly as the kernel
/// computes it, and its index among the columns (rows).
pub(crate) struct Positives<'a, T> {
    pub(crate) values: &'a [T],
    pub(crate) indices: &'a [usize],
}

/// Counts, for each row i and each column j, the entries that outrank its positive: a larger
/// similarity, or an equal one at a larger index (the order of a stable argsort).
struct Ranks<'a, T> {
    rows: Positives<'a, T>,
    cols: Positives<'a, T>,
}

type Acc = RowsAndCols<u64, u64>;

/// Whether the similarity `s` at index `index` outranks a positive of similarity `target` at
/// index `at`: larger, or equal at a larger index (the order of a stable argsort).
#[inline(always)]
fn outranks<T: Element>(s: T, index: usize, target: T, at: usize) -> bool {
    s > target || (s == target && index > at)
}

impl<T: Element> Epilogue<T> for Ranks<'_, T> {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let (target, at) = (self.rows.values[i], self.rows.indices[i]);
            let above: u64 = dots
                .iter()
                .enumerate()
                .map(|(k, &s)| u64::from(outranks(s, first + k, target, at)))
                .sum();
            *acc.row(i) += above;
            let col_targets = &self.cols.values[first..][..dots.len()];
            let col_at = &self.cols.indices[first..][..dots.len()];
            let col_counts = &mut acc.cols[first..][..dots.len()];
            for (((count, &s), &target), &at) in
                col_counts.iter_mut().zip(dots).zip(col_targets).zip(col_at)
            {
                *count += u64::from(outranks(s, i, target, at));
            }
        }
    }
}

/// For the rows and columns whose positive ranks exactly K (`rows_at_k`, `cols_at_k`): which
/// entries outrank it. Each such entry (i, j) is a flip of the jackknife of Recall@K: leaving
/// sample j out lifts row i's positive into the top K (and leaving sample i out, column j's).
/// Counted per column for the rows, per row for the columns.
struct Flips<'a, T> {
    rows: Positives<'a, T>,
    cols: Positives<'a, T>,
    rows_at_k: &'a [bool],
    cols_at_k: &'a [bool],
}

impl<T: Element> Epilogue<T> for Flips<'_, T> {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let col_counts = &mut acc.cols[first..][..dots.len()];
            if self.rows_at_k[i] {
                let (target, at) = (self.rows.values[i], self.rows.indices[i]);
                for (k, (count, &s)) in col_counts.iter_mut().zip(dots).enumerate() {
                    *count += u64::from(outranks(s, first + k, target, at));
                }
            }
            let flipped: u64 = (first..first + dots.len())
                .zip(dots)
                .filter(|&(j, _)| self.cols_at_k[j])
                .map(|(j, &s)| u64::from(outranks(s, i, self.cols.values[j], self.cols.indices[j])))
                .sum();
            *acc.row(i) += flipped;
        }
    }
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
    rows_and_cols(isa, (a, b), &Ranks { rows, cols }, (0, 0), |total, part| {
        *total += part
    })
}

/// For each column j, the rows i whose positive ranks exactly K and is outranked by (i, j);
/// for each row i, the columns j whose positive ranks exactly K and is outranked by (i, j)
/// ([`Flips`]). Same positives as [`ranks`].
pub(crate) fn flips<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    (rows, cols): (Positives<'_, T>, Positives<'_, T>),
    (rows_at_k, cols_at_k): (&[bool], &[bool]),
) -> (Vec<u64>, Vec<u64>) {
    let epilogue = Flips {
        rows,
        cols,
        rows_at_k,
        cols_at_k,
    };
    let (per_row, per_col) =
        rows_and_cols(isa, (a, b), &epilogue, (0, 0), |total, part| *total += part);
    (per_col, per_row)
}
