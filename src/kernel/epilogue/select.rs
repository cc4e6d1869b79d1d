//! The dot products that fall in chosen bins of [−1, 1]: the second pass of exact quantiles.

use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Scratch, row_tasks, run};

/// Keeps every dot product whose bin (as [`super::histogram`] assigns it) is `wanted`.
struct Select<'a> {
    bins: usize,
    wanted: &'a [bool],
}

impl<T: Element> Epilogue<T> for Select<'_> {
    type Acc = Vec<f64>;

    #[inline(always)]
    fn consume(&self, acc: &mut Vec<f64>, block: &Block<'_, T>, _: &mut Scratch) {
        let half_width = self.bins as f64 / 2.0;
        for i in block.rows() {
            for &dot in block.row(i).1 {
                let v = dot.to_f64();
                // The histogram's bin, to the bit (`as` saturates: below −1 is bin 0).
                let bin = (((v + 1.0) * half_width) as usize).min(self.bins - 1);
                if self.wanted[bin] {
                    acc.push(v);
                }
            }
        }
    }
}

/// The dot products of `pairs` in the bins marked in `wanted` (one flag per bin of `bins`
/// equal bins over [−1, 1]), task after task.
pub(crate) fn select<T: Element>(isa: Isa, pairs: Pairs<'_, T>, wanted: &[bool]) -> Vec<f64> {
    let tasks = row_tasks(&pairs, None)
        .into_iter()
        .map(|tile| (tile, Vec::new()))
        .collect();
    let epilogue = Select {
        bins: wanted.len(),
        wanted,
    };
    run(isa, &pairs, tasks, &epilogue).concat()
}
