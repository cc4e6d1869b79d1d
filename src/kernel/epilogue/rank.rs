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

/// For each row of the pass (each a query whose positive ranks exactly K): which columns
/// outrank its positive. Counted per column: column j's count is the number of these queries
/// that leaving sample j out lifts into the top K.
struct FlipsPerColumn<'a, T> {
    rows: Positives<'a, T>,
}

impl<T: Element> Epilogue<T> for FlipsPerColumn<'_, T> {
    type Acc = RowsAndCols<(), u64>;

    #[inline(always)]
    fn consume(&self, acc: &mut Self::Acc, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let (target, at) = (self.rows.values[i], self.rows.indices[i]);
            let counts = &mut acc.cols[first..][..dots.len()];
            for (k, (count, &s)) in counts.iter_mut().zip(dots).enumerate() {
                *count += u64::from(outranks(s, first + k, target, at));
            }
        }
    }
}

/// For each column of the pass (each a query of the other direction whose positive ranks
/// exactly K): which rows outrank its positive. Counted per row.
struct FlipsPerRow<'a, T> {
    cols: Positives<'a, T>,
}

impl<T: Element> Epilogue<T> for FlipsPerRow<'_, T> {
    type Acc = RowsAndCols<u64, ()>;

    #[inline(always)]
    fn consume(&self, acc: &mut Self::Acc, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let targets = &self.cols.values[first..][..dots.len()];
            let at = &self.cols.indices[first..][..dots.len()];
            let flipped: u64 = (dots.iter().zip(targets).zip(at))
                .map(|((&s, &target), &at)| u64::from(outranks(s, i, target, at)))
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

/// The flips of Recall@K's jackknife in one direction: `queries` are the rows whose positive
/// ranks exactly K (their positives in `positives`, indexed as `queries`), `candidates` all the
/// columns; for each column j, how many of the queries (i, j) outranks. The dot products are
/// the full pass's, bit for bit (each is one FMA chain of its two rows).
pub(crate) fn flips_per_column<T: Element>(
    isa: Isa,
    queries: Rows<'_, T>,
    candidates: Rows<'_, T>,
    positives: Positives<'_, T>,
) -> Vec<u64> {
    let epilogue = FlipsPerColumn { rows: positives };
    rows_and_cols(
        isa,
        (queries, candidates),
        &epilogue,
        ((), 0),
        |total, part| *total += part,
    )
    .1
}

/// The other direction: `queries` are the columns whose positive ranks exactly K (their
/// positives in `positives`), `candidates` all the rows; for each row i, how many of the
/// queries (i, j) outranks.
pub(crate) fn flips_per_row<T: Element>(
    isa: Isa,
    candidates: Rows<'_, T>,
    queries: Rows<'_, T>,
    positives: Positives<'_, T>,
) -> Vec<u64> {
    let epilogue = FlipsPerRow { cols: positives };
    rows_and_cols(isa, (candidates, queries), &epilogue, (0, ()), |_, _| ()).0
}
