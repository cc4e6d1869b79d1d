//! The k most similar columns of every row.

use std::ops::Range;

use crate::kernel::{
    ALL_TILES, Block, Element, Epilogue, Isa, Pairs, Rows, Scratch, row_tasks, run, tiles,
};

/// Keeps, for each row, its k best (similarity, column) pairs in rank order: larger
/// similarity first, and among equal similarities the larger column index first (the order
/// of the last k entries of a stable ascending argsort, as the Hit@K of Weixin-Liang/Modality-Gap).
struct TopK {
    k: usize,
}

struct Acc<T> {
    first_row: usize,
    best: Vec<Vec<(T, usize)>>,
}

impl<T: Element> Epilogue<T> for TopK {
    type Acc = Acc<T>;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc<T>, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let best = &mut acc.best[i - acc.first_row];
            for (j, &s) in (first..).zip(dots) {
                // Columns arrive in increasing order, so a tie with the last kept entry wins.
                if best.len() == self.k {
                    if s < best[self.k - 1].0 {
                        continue;
                    }
                    best.pop();
                }
                let at = best.partition_point(|&(v, _)| v > s);
                best.insert(at, (s, j));
            }
        }
    }
}

/// For each row of `a`, the `k` (≥ 1) columns of `b` with the largest dot products, in rank
/// order, with their dot products.
pub(crate) fn top_k<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    k: usize,
) -> Vec<Vec<(T, usize)>> {
    top_k_tiles(isa, a, b, k, ALL_TILES).concat()
}

/// [`top_k`]'s lists of the rows of each of the tasks `selected` of its pass, in order.
pub(crate) fn top_k_tiles<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    k: usize,
    selected: Range<usize>,
) -> Vec<Vec<Vec<(T, usize)>>> {
    debug_assert!(k >= 1);
    let pairs = Pairs::Between(a, b);
    let tasks = tiles(row_tasks(&pairs, None), selected)
        .into_iter()
        .map(|tile| {
            let rows = &tile.rows;
            debug_assert_eq!(rows.len(), 1, "between two sets a task owns one range");
            let best = (0..rows[0].len())
                .map(|_| Vec::with_capacity(k.min(b.len())))
                .collect();
            let acc = Acc {
                first_row: rows[0].start,
                best,
            };
            (tile, acc)
        })
        .collect();
    run(isa, &pairs, tasks, &TopK { k })
        .into_iter()
        .map(|acc| acc.best)
        .collect()
}
