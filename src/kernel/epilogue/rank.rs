//! The rank of each pair's similarity in its row and in its column: retrieval recall.

use super::{RowsAndCols, rows_and_cols};
use crate::kernel::{Block, Element, Epilogue, Isa, Rows, Scratch};

/// Counts, for each row i and each column j, the entries that outrank the diagonal target:
/// a larger similarity, or an equal one at a larger index (the order of a stable argsort).
struct Ranks<'a, T> {
    targets: &'a [T],
}

type Acc = RowsAndCols<u64, u64>;

impl<T: Element> Epilogue<T> for Ranks<'_, T> {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let target = self.targets[i];
            let above: u64 = dots
                .iter()
                .enumerate()
                .map(|(k, &s)| u64::from(s > target || (s == target && first + k > i)))
                .sum();
            *acc.row(i) += above;
            let col_targets = &self.targets[first..][..dots.len()];
            let col_counts = &mut acc.cols[first..][..dots.len()];
            for (k, ((count, &s), &target)) in
                col_counts.iter_mut().zip(dots).zip(col_targets).enumerate()
            {
                *count += u64::from(s > target || (s == target && i > first + k));
            }
        }
    }
}

/// (rank of aᵢ·bᵢ in row i, rank of aⱼ·bⱼ in column j): how many entries of the row (column)
/// outrank the diagonal, ties going to the larger index. `targets[i]` must be the kernel's
/// own aᵢ·bᵢ ([`paired_dots`](crate::kernel::paired_dots)), so that ties are exact.
pub(crate) fn ranks<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    targets: &[T],
) -> (Vec<u64>, Vec<u64>) {
    rows_and_cols(isa, (a, b), &Ranks { targets }, (0, 0), |total, part| {
        *total += part
    })
}
