//! The dot products that fall in chosen bins of [−1, 1]: the second pass of exact quantiles.

use std::ops::Range;

use super::histogram::{bin_of, histogram_max_tasks};
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Scratch, row_tasks, run, tiles};

/// Keeps every dot product whose bin (as [`super::histogram`] assigns it, [`bin_of`]) is
/// `wanted`.
struct Select<'a> {
    bins: usize,
    wanted: &'a [bool],
}

impl<T: Element> Epilogue<T> for Select<'_> {
    type Acc = Vec<f64>;

    #[inline(always)]
    fn consume(&self, acc: &mut Vec<f64>, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            for &dot in block.row(i).1 {
                let v = dot.to_f64();
                if self.wanted[bin_of(v, self.bins)] {
                    acc.push(v);
                }
            }
        }
    }
}

/// The dot products of `pairs` in the bins marked in `wanted` (one flag per bin of `bins`
/// equal bins over [−1, 1]) of each of the tasks `selected` of the pass of
/// [`histogram`](super::histogram) with as many bins (its tiles), task after task.
pub(crate) fn select_tiles<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    wanted: &[bool],
    selected: Range<usize>,
) -> Vec<Vec<f64>> {
    let tasks = tiles(
        row_tasks(&pairs, Some(histogram_max_tasks(wanted.len()))),
        selected,
    )
    .into_iter()
    .map(|tile| (tile, Vec::new()))
    .collect();
    let epilogue = Select {
        bins: wanted.len(),
        wanted,
    };
    run(isa, &pairs, tasks, &epilogue)
}
