//! Exact counts of the pairwise similarities in fixed bins over [−1, 1], with their moments.

use std::ops::Range;

use crate::kernel::{
    ALL_TILES, Block, Element, Epilogue, Isa, Pairs, Scratch, lanes, row_tasks, run, tiles,
};

/// Counts in `bins` equal bins over [−1, 1] (values outside, from rounding, go to the end
/// bins), and the moments Σ(v − c), Σ(v − c)² about a centre c near the mean (so that the
/// variance does not cancel), the minimum and the maximum.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

    /// The parts' values together, added in order to no values.
    pub(crate) fn sum_of(parts: impl IntoIterator<Item = Self>, bins: usize, centre: f64) -> Self {
        let mut total = Self::empty(bins, centre);
        for part in parts {
            total.merge(part);
        }
        total
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

/// The bin of a similarity v among `bins` equal bins over [−1, 1]: ⌊(v + 1)·bins/2⌋, values
/// below −1 (from rounding) in the first bin and from 1 on in the last.
#[inline(always)]
pub(crate) fn bin_of(v: f64, bins: usize) -> usize {
    // `as` saturates: below −1 lands in bin 0.
    (((v + 1.0) * (bins as f64 / 2.0)) as usize).min(bins - 1)
}

struct Histogram {
    bins: usize,
    centre: f64,
}

impl<T: Element> Epilogue<T> for Histogram {
    type Acc = CosineCounts;

    #[inline(always)]
    fn consume(&self, acc: &mut CosineCounts, block: &Block<'_, T>, scratch: &mut Scratch) {
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
                acc.counts[bin_of(v, self.bins)] += 1;
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
    let parts = histogram_tiles(isa, pairs, (bins, centre), ALL_TILES);
    CosineCounts::sum_of(parts, bins, centre)
}

/// Every task keeps its own counts: at most about 64 MiB of them in all. Below that the tasks
/// are the kernel's own (about a sweep each, as many as the uniformity's), so that a sharded
/// histogram has about as many tiles as rows / 2048.
pub(crate) fn histogram_max_tasks(bins: usize) -> usize {
    ((64 << 20) / (8 * bins)).max(1)
}

/// The counts of each of the tasks `selected` of [`histogram`]'s pass, in order.
pub(crate) fn histogram_tiles<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    (bins, centre): (usize, f64),
    selected: Range<usize>,
) -> Vec<CosineCounts> {
    let tasks = tiles(row_tasks(&pairs, Some(histogram_max_tasks(bins))), selected)
        .into_iter()
        .map(|tile| (tile, CosineCounts::empty(bins, centre)))
        .collect();
    run(isa, &pairs, tasks, &Histogram { bins, centre })
}
