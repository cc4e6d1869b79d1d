//! Tasks, sweeps and blocks: the loop nest around the micro-kernel, and rayon.

use std::ops::Range;

use rayon::prelude::*;

use crate::progress;

use super::pack::{Aligned, pack_panels};
use super::simd::{Element, Isa, Job, MicroKernel};
use super::{Block, Epilogue, Pairs, Rows, Scratch};

/// Bytes of A a task packs at once (a *sweep*, read from L3 once per column block of B). Every
/// sweep packs every column block of B again, so a tall sweep keeps that cost small; one that
/// outgrows its share of L3 makes the micro-kernel wait for memory (in one run at n = 16384,
/// d = 512 on a 32 MiB L3 shared by two cores: uniformity at 66 % of the FMA peak with 8 MiB
/// sweeps, 73 % with 2 MiB ones).
/// The unit tests cut sweeps small, so that every pass they run has several.
const SWEEP_BYTES: usize = if cfg!(test) { 16 << 10 } else { 4 << 20 };
/// The number of tasks is a multiple of this, so that 1, 2 or 4 cores share them evenly (five
/// tasks on two cores take as long as six) ...
const TASK_MULTIPLE: usize = 4;
/// ... unless that would make tasks of fewer rows than this: a task packs all of B once per
/// sweep, which short tasks cannot amortise.
const MIN_TASK_ROWS: usize = 512;
/// Bytes of a packed column block of B (kept in L2 while a sweep streams past it: half of
/// Zen 3's 512 KiB). Wider blocks spread each row's epilogue overhead over more pairs (f64 at
/// d = 512: 64 columns, against 48 at 192 KiB).
const BLOCK_BYTES: usize = 256 << 10;
/// The rows of a sweep are a multiple of every micro-kernel's MR (4, 6, 12), so that only the
/// last group of rows of each of a task's ranges can be partial.
const SWEEP_MULTIPLE: usize = 12;
/// Block widths are multiples of every micro-kernel's NR (8, 16, 32).
const BLOCK_MULTIPLE: usize = 32;
/// The widest column block.
pub(super) const MAX_BLOCK_COLS: usize = 512;
/// Passes with fewer multiply-adds than this run on the calling thread.
const PARALLEL_FROM: usize = 1 << 22;

/// Rows of A per sweep: about `SWEEP_BYTES` of packed values, a multiple of 12.
fn sweep_rows<T>(d: usize) -> usize {
    let rows = SWEEP_BYTES / (d * size_of::<T>());
    (rows / SWEEP_MULTIPLE).max(1) * SWEEP_MULTIPLE
}

/// Columns of B per block: about `BLOCK_BYTES` of packed values, a multiple of 32, at most
/// `MAX_BLOCK_COLS` (the epilogue's block of dot products stays small).
fn block_cols<T>(d: usize) -> usize {
    let cols = (BLOCK_BYTES / (d * size_of::<T>())).min(MAX_BLOCK_COLS);
    (cols / BLOCK_MULTIPLE).max(1) * BLOCK_MULTIPLE
}

/// The rows of A one task owns: one range between two sets (`rows[0]`); between one set and
/// itself, a range from the top (many pairs j > i) and one from the bottom (few), so that
/// tasks do equal work.
pub(crate) type TaskRows = Vec<Range<usize>>;

/// The tasks of a pass, with equal work: one sweep each, or more rows permitting, rounded up
/// to a multiple of `TASK_MULTIPLE` so that every core has work; at most `max_tasks` when
/// given (for epilogues whose accumulators hold a value per column). Depends only on the
/// shapes, never on the thread count.
pub(crate) fn row_tasks<T: Element>(
    pairs: &Pairs<'_, T>,
    max_tasks: Option<usize>,
) -> Vec<TaskRows> {
    let (a, _) = pairs.sides();
    let n = a.len();
    let ranges_per_task = match pairs {
        Pairs::Between(..) => 1,
        Pairs::Within(_) => 2,
    };
    let tasks = n
        .div_ceil(sweep_rows::<T>(a.dim()))
        .next_multiple_of(TASK_MULTIPLE)
        .min(n.div_ceil(MIN_TASK_ROWS))
        .min(max_tasks.unwrap_or(usize::MAX))
        .max(1);
    let ranges = tasks * ranges_per_task;
    let range = |s: usize| s * n / ranges..(s + 1) * n / ranges;
    (0..tasks)
        .map(|t| match pairs {
            Pairs::Between(..) => vec![range(t)],
            Pairs::Within(_) => vec![range(t), range(ranges - 1 - t)],
        })
        .collect()
}

/// Every tile of a pass: a pass run in one process.
pub(crate) const ALL_TILES: Range<usize> = 0..usize::MAX;

/// The tasks `tiles` of a pass's tasks (a shard's range of a plan's tiles, which are the
/// tasks), in order.
pub(crate) fn tiles<X>(tasks: Vec<X>, tiles: Range<usize>) -> Vec<X> {
    tasks
        .into_iter()
        .take(tiles.end)
        .skip(tiles.start)
        .collect()
}

/// The pairs each task of a pass visits, in task order.
pub(crate) fn task_pairs<T: Element>(pairs: &Pairs<'_, T>, tasks: &[TaskRows]) -> Vec<u64> {
    let (within, m) = (matches!(pairs, Pairs::Within(_)), pairs.sides().1.len());
    tasks
        .iter()
        .map(|task| sweep_pairs(task, m, within))
        .collect()
}

/// A task's rows cut into sweeps of at most `rows` rows in all, in order: each a list of
/// ranges (pieces of the task's ranges).
fn sweeps(task: &[Range<usize>], rows: usize) -> Vec<Vec<Range<usize>>> {
    let mut sweeps: Vec<Vec<Range<usize>>> = Vec::new();
    let mut room = 0;
    for range in task {
        let mut start = range.start;
        while start < range.end {
            if room == 0 {
                sweeps.push(Vec::new());
                room = rows;
            }
            let end = range.end.min(start + room);
            sweeps.last_mut().expect("pushed above").push(start..end);
            room -= end - start;
            start = end;
        }
    }
    sweeps
}

/// Runs a pass: each task (a range of rows of A from [`row_tasks`], with its accumulator)
/// visits its pairs and hands every block to `epilogue`. Returns the accumulators in task
/// order. Parallel over tasks unless the pass is small.
pub(crate) fn run<T: Element, E: Epilogue<T>>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    tasks: Vec<(TaskRows, E::Acc)>,
    epilogue: &E,
) -> Vec<E::Acc> {
    // The pairs of the tasks this call runs (a shard's tiles may be a part of the pass).
    let (within, m) = (matches!(pairs, Pairs::Within(_)), pairs.sides().1.len());
    let total = tasks
        .iter()
        .map(|(rows, _)| sweep_pairs(rows, m, within))
        .sum();
    let progress = progress::pass(total);
    let task = |(rows, mut acc): (TaskRows, E::Acc)| {
        isa.run(Task {
            pairs,
            rows,
            acc: &mut acc,
            epilogue,
            progress: progress.as_ref(),
        });
        acc
    };
    if pairs.count().saturating_mul(pairs.sides().0.dim()) < PARALLEL_FROM {
        tasks.into_iter().map(task).collect()
    } else {
        tasks.into_par_iter().map(task).collect()
    }
}

/// One task: the sweeps of rows `rows`, each against every column block it pairs with.
struct Task<'r, 'p, T, E: Epilogue<T>> {
    pairs: &'r Pairs<'p, T>,
    rows: TaskRows,
    acc: &'r mut E::Acc,
    epilogue: &'r E,
    /// The observer's view of this pass ([`crate::progress`]), if any.
    progress: Option<&'r progress::Pass>,
}

impl<T: Element, E: Epilogue<T>> Job<T> for Task<'_, '_, T, E> {
    type Output = ();

    #[inline(always)]
    fn run<K: MicroKernel<T>>(self, kernel: K) {
        let (a, b) = self.pairs.sides();
        let within = matches!(self.pairs, Pairs::Within(_));
        let (d, mr, nr) = (a.dim(), K::MR, K::NR);
        let block = block_cols::<T>(d);
        let (mut a_pack, mut b_pack, mut rows) = (Aligned::new(), Aligned::new(), Vec::new());
        let mut dots = vec![T::ZERO; mr * block];
        let mut scratch = Scratch::new();
        for sweep in sweeps(&self.rows, sweep_rows::<T>(d)) {
            if self.progress.is_some_and(progress::Pass::cancelled) {
                return;
            }
            // Each piece of the sweep packed in groups of MR rows, one after another.
            pack_panels(a, &sweep, mr, &mut a_pack, &mut rows);
            // Within one set, row i pairs only with j > i ≥ the sweep's first row.
            let first_col = match sweep.iter().map(|piece| piece.start + 1).min() {
                Some(first) if within => first,
                _ => 0,
            };
            for block_start in (first_col..b.len()).step_by(block) {
                let cols = block_start..b.len().min(block_start + block);
                pack_panels(b, std::slice::from_ref(&cols), nr, &mut b_pack, &mut rows);
                let groups = sweep.iter().flat_map(|piece| {
                    (piece.start..piece.end)
                        .step_by(mr)
                        .map(move |start| start..piece.end.min(start + mr))
                });
                for (g, group) in groups.enumerate() {
                    if within && group.start + 1 >= cols.end {
                        continue; // this group has no j > i in the block
                    }
                    let a_panel = &a_pack.as_slice()[g * d * mr..][..d * mr];
                    for (p, panel_start) in cols.clone().step_by(nr).enumerate() {
                        if within && panel_start + nr <= group.start + 1 {
                            continue; // every j of the panel is ≤ every i of the group
                        }
                        let b_panel = &b_pack.as_slice()[p * d * nr..][..d * nr];
                        kernel.tile(d, a_panel, b_panel, &mut dots[p * nr..], block);
                    }
                    let view = Block {
                        rows: group,
                        cols: cols.clone(),
                        dots: &dots,
                        stride: block,
                        within,
                    };
                    self.epilogue.consume(self.acc, &view, &mut scratch);
                }
            }
            if let Some(progress) = self.progress {
                progress.advance(sweep_pairs(&sweep, b.len(), within));
            }
        }
        self.epilogue.finish_task(self.acc);
    }
}

/// The pairs a sweep visits: each of its rows i against all m columns, or within one set
/// against the columns j > i.
fn sweep_pairs(sweep: &[Range<usize>], m: usize, within: bool) -> u64 {
    let row = |i: usize| if within { m - 1 - i } else { m } as u64;
    sweep.iter().flat_map(|piece| piece.clone()).map(row).sum()
}

/// `fma_dot(aᵢ, bᵢ)` for every i (both sides as the kernel sees them, shifts applied): the
/// diagonal of a pass, bitwise equal to the dot products its blocks hold. Parallel over
/// chunks of rows; eight rows at a time keep eight independent fused multiply-add chains in
/// flight.
pub(crate) fn paired_dots<T: Element>(isa: Isa, a: Rows<'_, T>, b: Rows<'_, T>) -> Vec<T> {
    debug_assert_eq!(a.len(), b.len());
    const CHUNK: usize = 1024;
    let chunks: Vec<Vec<T>> = (0..a.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let rows = c * CHUNK..a.len().min((c + 1) * CHUNK);
            isa.run(PairedDots { a, b, rows })
        })
        .collect();
    chunks.concat()
}

/// The job of [`paired_dots`] for one chunk of rows.
struct PairedDots<'a, T> {
    a: Rows<'a, T>,
    b: Rows<'a, T>,
    rows: Range<usize>,
}

impl<T: Element> Job<T> for PairedDots<'_, T> {
    type Output = Vec<T>;

    #[inline(always)]
    fn run<K: MicroKernel<T>>(self, _: K) -> Vec<T> {
        const LANES: usize = 8;
        let d = self.a.dim();
        let mut out = Vec::with_capacity(self.rows.len());
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for start in self.rows.clone().step_by(LANES) {
            let rows = start..self.rows.end.min(start + LANES);
            self.a.copy_rows(rows.clone(), &mut xs);
            self.b.copy_rows(rows.clone(), &mut ys);
            let mut acc = [T::ZERO; LANES];
            for k in 0..d {
                for ((acc, x), y) in acc
                    .iter_mut()
                    .zip(xs.chunks_exact(d))
                    .zip(ys.chunks_exact(d))
                {
                    *acc = x[k].mul_add(y[k], *acc);
                }
            }
            out.extend_from_slice(&acc[..rows.len()]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::sweeps;

    #[test]
    fn sweeps_cut_a_tasks_ranges_in_order_and_fill_each_sweep() {
        let one = |r: std::ops::Range<usize>| Vec::from([r]);
        assert_eq!(
            sweeps(&[0..5, 20..23], 4),
            [one(0..4), Vec::from([4..5, 20..23])]
        );
        assert_eq!(sweeps(&[3..9, 9..9], 6), [one(3..9)]);
        assert_eq!(
            sweeps(&[0..7, 7..8], 3),
            [one(0..3), one(3..6), Vec::from([6..7, 7..8])]
        );
        assert_eq!(sweeps(&[0..0, 2..3], 3), [one(2..3)]);
        assert!(sweeps(&[], 3).is_empty());
    }
}
