//! Exact counts of the pairwise similarities in fixed bins over [−1, 1], with their moments.

use super::MAX_WIDE_TASKS;
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Scratch, lanes, row_tasks, run};

/// Counts in `bins` equal bins over [−1, 1] (values outside, from rounding, go to the end
/// bins), and the moments Σ(v − c), Σ(v − c)² about a centre c near the mean (so that the
/// variance does not cancel), the minimum and the maximum.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CosineCounts {
    pub(crate) counts: Vec<u64>,
    pub(crate) centre: f64,
    pub(crate) sum: f64,
    pub(crate) sum_squares: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl CosineCounts {
    fn empty(bins: usize, centre: f64) -> Self {
        Self {
            counts: vec![0; bins],
            centre,
            sum: 0.0,
            sum_squares: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds another part's values (counts exactly; moments in call order).
    fn merge(&mut self, other: Self) {
        for (c, o) in self.counts.iter_mut().zip(other.counts) {
            *c += o;
        }
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

struct Histogram {
    bins: usize,
    centre: f64,
}

impl<T: Element> Epilogue<T> for Histogram {
    type Acc = CosineCounts;

    #[inline(always)]
    fn consume(&self, acc: &mut CosineCounts, block: &Block<'_, T>, scratch: &mut Scratch) {
        let half_width = self.bins as f64 / 2.0;
        for i in block.rows() {
            let dots = block.row(i).1;
            let [values, centred, squares] = scratch.rows(dots.len());
            for (((v, c), s), &dot) in values
                .iter_mut()
                .zip(&mut *centred)
                .zip(&mut *squares)
                .zip(dots)
            {
                *v = dot.to_f64();
                *c = *v - self.centre;
                *s = *c * *c;
            }
            for &v in &*values {
                // `as` saturates: below −1 lands in bin 0.
                let bin = (((v + 1.0) * half_width) as usize).min(self.bins - 1);
                acc.counts[bin] += 1;
            }
            acc.sum += lanes::sum(centred);
            acc.sum_squares += lanes::sum(squares);
            acc.max = acc.max.max(lanes::max(values));
            acc.min = acc.min.min(lanes::min(values));
        }
    }
}

/// The similarities of every pair of `pairs` in `bins` bins over [−1, 1], with their moments
/// about `centre`.
pub(crate) fn histogram<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    bins: usize,
    centre: f64,
) -> CosineCounts {
    // Every task keeps its own counts: at most about 64 MiB of them in all.
    let max_tasks = ((64 << 20) / (8 * bins)).clamp(1, MAX_WIDE_TASKS);
    let tasks = row_tasks(&pairs, Some(max_tasks))
        .into_iter()
        .map(|rows| (rows, CosineCounts::empty(bins, centre)))
        .collect();
    let mut total = CosineCounts::empty(bins, centre);
    for part in run(isa, &pairs, tasks, &Histogram { bins, centre }) {
        total.merge(part);
    }
    total
}
