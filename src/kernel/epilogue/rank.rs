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
                .map(|(k, &s)| u64::from(s > target || (s == target && first + k > at)))
                .sum();
            *acc.row(i) += above;
            let col_targets = &self.cols.values[first..][..dots.len()];
            let col_at = &self.cols.indices[first..][..dots.len()];
            let col_counts = &mut acc.cols[first..][..dots.len()];
            for (((count, &s), &target), &at) in
                col_counts.iter_mut().zip(dots).zip(col_targets).zip(col_at)
            {
                *count += u64::from(s > target || (s == target && i > at));
            }
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
