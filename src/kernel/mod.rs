//! The pairwise kernel: every metric over pairs of samples runs through here, and only through
//! the doors of [`passes`], one function per kind of pass. Each door takes row-major slices
//! ([`Sets`]), chooses the instruction set and the element type itself, and returns plain
//! values; everything behind it (instruction sets, packing, tiles, epilogues, log-sum-exp
//! accumulators, block sizes) is private to this module.
//!
//! A pass visits the pairs (i, j) of two sets A (n × d) and B (m × d), or the pairs i < j of
//! one set, in cache-sized blocks, and never holds an n × m matrix:
//!
//! - **Tasks** are fixed ranges of rows of A, independent of the thread count (a multiple of
//!   four of them, so that 2 or 4 cores share them evenly); rayon runs them in parallel, each
//!   with its own accumulator, and the accumulators come back in task order, so every
//!   reduction is combined in the same order whatever the number of threads. Small passes run
//!   on the calling thread.
//! - A task packs its rows a **sweep** at a time (at most about 4 MiB, read from L3) and, for
//!   each sweep, every **column block** of B it pairs with (about 256 KiB, kept in L2), into
//!   cache-line-aligned panels interleaved by coordinate; a centring shift is applied while
//!   packing. One set with itself gives each task a top and a bottom range of rows, swept
//!   together, so that tasks do equal work and pack B once for both.
//! - The **micro-kernel** ([`simd`]) fills an MR × NR register tile of dot products, each a
//!   sequential fused multiply-add chain in the input precision, on every instruction set, so
//!   [`paired_dots`] (the same chains outside the tiles) is bitwise the kernel's diagonal.
//! - The **epilogue** ([`epilogue`]) consumes each MR-row block of dot products while it is
//!   hot in L1, in f64: Gaussian potentials, cross-entropies (and, given their final
//!   log-sum-exps, a second pass for their jackknife), ranks, histograms, top-k, or a copy into
//!   a caller's matrix.
//! - One set with itself visits only the blocks with j > i (SYRK-like); rows of a diagonal
//!   block see only their columns j > i.
//!
//! Extra memory is O(threads × (sweep + block)) plus what an epilogue keeps per task.

mod epilogue;
mod exp;
mod lanes;
mod logsumexp;
mod pack;
mod passes;
mod schedule;
#[allow(unsafe_code)]
mod simd;
#[cfg(test)]
mod tests;

use std::ops::Range;

pub(crate) use epilogue::{CosineCounts, Runs, SampleBlock, SampleSums, TaskTree, bin_of};
pub(crate) use logsumexp::LogSumExp;
pub(crate) use passes::{
    CrossEntropies, CrossEntropyTile, LeftOut, LeftOutTile, Sets, Targets, Tiled, cross_entropies,
    cross_entropies_left_out, cross_entropies_left_out_by_runs, cross_entropies_of,
    cross_entropies_of_tiles, cross_entropy_tiles, dot_matrix, gaussian_log_mean,
    gaussian_log_mean_and_shares, gaussian_log_mean_and_shares_of, gaussian_log_mean_of,
    gaussian_share_tiles, gaussian_tiles, histogram, histogram_of, histogram_tiles, left_out_of,
    left_out_tiles, rank_tiles, ranks, ranks_and_flips, ranks_of, row_cross_entropies, tile_pairs,
    top_k, top_k_tiles, values_in_bins, values_in_bins_tiles, vectorised,
};
use schedule::{ALL_TILES, PanelTiles, Tile, row_tasks, run, tiles};
use simd::{Element, Isa};

/// One side of a pass: `n` rows of dimension `d` in one row-major buffer, optionally shifted
/// and scaled (the kernel then sees `T::from_f64((xᵢₖ − shiftₖ) · scale)`).
#[derive(Debug, Clone, Copy)]
struct Rows<'a, T> {
    data: &'a [T],
    dim: usize,
    shift: Option<(&'a [f64], f64)>,
}

impl<'a, T: Element> Rows<'a, T> {
    /// The rows of a row-major buffer of dimension `dim`.
    fn new(data: &'a [T], dim: usize) -> Self {
        debug_assert!(dim > 0 && data.len().is_multiple_of(dim));
        Self {
            data,
            dim,
            shift: None,
        }
    }

    /// The same rows, each shifted by `−shift` and multiplied by `scale` in f64, then rounded
    /// to `T` (once: a power-of-two scale is exact).
    fn shifted(self, shift: &'a [f64], scale: f64) -> Self {
        debug_assert_eq!(shift.len(), self.dim);
        Self {
            shift: Some((shift, scale)),
            ..self
        }
    }

    /// Rows `indices[0]`, `indices[1]`, … as the kernel sees them, one after another.
    fn gather(&self, indices: &[usize]) -> Vec<T> {
        let mut out = vec![T::ZERO; indices.len() * self.dim];
        for (&i, row) in indices.iter().zip(out.chunks_exact_mut(self.dim)) {
            self.copy_row(i, row);
        }
        out
    }

    /// Rows `rows` of these (with the same shift).
    fn slice(self, rows: Range<usize>) -> Self {
        Self {
            data: &self.data[rows.start * self.dim..rows.end * self.dim],
            ..self
        }
    }

    /// The number of rows.
    fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// The dimension of the rows.
    fn dim(&self) -> usize {
        self.dim
    }

    /// Row i as the kernel sees it (shifted and scaled), written to `out` (a contiguous loop
    /// the compiler vectorises).
    #[inline(always)]
    fn copy_row(&self, i: usize, out: &mut [T]) {
        let row = &self.data[i * self.dim..][..self.dim];
        match self.shift {
            None => out.copy_from_slice(row),
            Some((shift, scale)) => {
                for ((o, &x), &s) in out.iter_mut().zip(row).zip(shift) {
                    *o = T::from_f64((x.to_f64() - s) * scale);
                }
            }
        }
    }

    /// Rows `rows` as the kernel sees them, one after another in `out` (resized to fit).
    #[inline(always)]
    fn copy_rows(&self, rows: Range<usize>, out: &mut Vec<T>) {
        out.resize(rows.len() * self.dim, T::ZERO);
        for (i, row) in rows.zip(out.chunks_exact_mut(self.dim)) {
            self.copy_row(i, row);
        }
    }
}

/// Which pairs a pass visits.
#[derive(Debug, Clone, Copy)]
enum Pairs<'a, T> {
    /// Every (i, j) of A × B.
    Between(Rows<'a, T>, Rows<'a, T>),
    /// The pairs i < j of one set.
    Within(Rows<'a, T>),
}

impl<'a, T: Element> Pairs<'a, T> {
    /// The pairs i < j of `a` when `within` (then `b` is `a`), else every (i, j) of A × B.
    fn of(a: Rows<'a, T>, b: Rows<'a, T>, within: bool) -> Self {
        if within {
            Self::Within(a)
        } else {
            Self::Between(a, b)
        }
    }

    /// (A, B): the sets of the rows and of the columns.
    fn sides(&self) -> (Rows<'a, T>, Rows<'a, T>) {
        match *self {
            Self::Between(a, b) => (a, b),
            Self::Within(x) => (x, x),
        }
    }

    /// The number of pairs visited.
    fn count(&self) -> usize {
        match self {
            Self::Between(a, b) => a.len().saturating_mul(b.len()),
            Self::Within(x) => x.len().saturating_mul(x.len().saturating_sub(1)) / 2,
        }
    }
}

/// A block of dot products handed to an epilogue: rows `rows` of A against columns `cols` of
/// B. For one set with itself, row i sees only its columns j > i.
struct Block<'a, T> {
    rows: Range<usize>,
    cols: Range<usize>,
    dots: &'a [T],
    stride: usize,
    within: bool,
    /// The block's first column starts a panel (between two sets).
    opens_panel: bool,
}

impl<T: Copy> Block<'_, T> {
    /// The rows of A in the block.
    #[inline(always)]
    fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// The columns of B in the block (before the j > i restriction).
    #[inline(always)]
    fn cols(&self) -> Range<usize> {
        self.cols.clone()
    }

    /// The block's rows `rows` (a sub-range of its own) against the same columns.
    #[inline(always)]
    fn with_rows(&self, rows: Range<usize>) -> Self {
        debug_assert!(self.rows.start <= rows.start && rows.end <= self.rows.end);
        Self {
            dots: &self.dots[(rows.start - self.rows.start) * self.stride..],
            rows,
            cols: self.cols.clone(),
            stride: self.stride,
            within: self.within,
            opens_panel: self.opens_panel,
        }
    }

    /// Whether the block's columns are the first of a panel, between two sets: a wide pass's
    /// row states restart here (see [`PanelTiles`](schedule::PanelTiles)). Each row sees the
    /// blocks of its columns in order, so a row meets every panel's opening block once, first.
    #[inline(always)]
    fn opens_panel(&self) -> bool {
        self.opens_panel
    }

    /// Whether the block pairs one set with itself (row i sees only j > i).
    #[inline(always)]
    fn is_within(&self) -> bool {
        self.within
    }

    /// Row i of the block: its first column j₀ and the dot products aᵢ·bⱼ for j = j₀, j₀ + 1,
    /// …, `cols().end − 1` (empty when row i has no pairs here).
    #[inline(always)]
    fn row(&self, i: usize) -> (usize, &[T]) {
        let first = if self.within {
            (i + 1).clamp(self.cols.start, self.cols.end)
        } else {
            self.cols.start
        };
        let start = (i - self.rows.start) * self.stride + (first - self.cols.start);
        (first, &self.dots[start..start + (self.cols.end - first)])
    }
}

/// What a pass does with its dot products. One accumulator per task; `consume` sees the
/// task's blocks in a fixed order. Implementations mark `consume` `#[inline(always)]`, so that
/// it is compiled (and vectorised) for the instruction set of the micro-kernel.
trait Epilogue<T>: Sync {
    /// The per-task state.
    type Acc: Send;
    /// Takes in one block; `scratch` is working space, allocated once per task.
    fn consume(&self, acc: &mut Self::Acc, block: &Block<'_, T>, scratch: &mut Scratch);
    /// Called once the task has visited all its pairs: its rows are complete.
    fn finish_task(&self, _acc: &mut Self::Acc) {}
}

/// Working space for an epilogue: a few f64 rows as wide as the widest block.
struct Scratch(Vec<f64>);

impl Scratch {
    /// Rows of working space an epilogue may take.
    const ROWS: usize = 4;

    fn new() -> Self {
        Self(vec![0.0; Self::ROWS * epilogue::MAX_BLOCK_COLS])
    }

    /// N rows of `len` values each (N ≤ 4, `len` ≤ the widest block), holding whatever an
    /// earlier block left there.
    #[inline(always)]
    fn rows<const N: usize>(&mut self, len: usize) -> [&mut [f64]; N] {
        let mut rows = self.0.chunks_exact_mut(epilogue::MAX_BLOCK_COLS);
        std::array::from_fn(|_| &mut rows.next().expect("at most 4 scratch rows")[..len])
    }
}
