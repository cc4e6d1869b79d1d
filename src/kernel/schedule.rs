//! Tasks, stripes and blocks: the loop nest around the micro-kernel, and rayon.

use std::ops::Range;

use rayon::prelude::*;

use super::pack::{Aligned, pack_panels};
use super::simd::{Element, Isa, Job, MicroKernel};
use super::{Block, Epilogue, Pairs, Rows, Scratch};

/// Bytes of a packed stripe of A (read from L3, once per column block). Each stripe packs
/// every column block of B again, so a tall stripe keeps that cost small.
const STRIPE_BYTES: usize = 2 << 20;
/// Tasks a pass is split into at least, so that every core has work ...
const MIN_TASKS: usize = 4;
/// ... unless that would make tasks of fewer rows than this.
const MIN_TASK_ROWS: usize = 128;
/// Bytes of a packed column block of B (kept in L2 while a stripe streams past it).
const BLOCK_BYTES: usize = 192 << 10;
/// The height of the stripes a task cuts its rows into is a multiple of every micro-kernel's
/// MR (4, 6, 12), so that only a task's last stripe ends in a partial group of rows.
const STRIPE_MULTIPLE: usize = 12;
/// Block widths are multiples of every micro-kernel's NR (8, 16, 32).
const BLOCK_MULTIPLE: usize = 32;
/// The widest column block.
pub(super) const MAX_BLOCK_COLS: usize = 512;
/// Passes with fewer multiply-adds than this run on the calling thread.
const PARALLEL_FROM: usize = 1 << 22;

/// Rows of A per stripe: about `STRIPE_BYTES` of packed values, a multiple of 12.
fn stripe_rows<T>(d: usize) -> usize {
    let rows = STRIPE_BYTES / (d * size_of::<T>());
    (rows / STRIPE_MULTIPLE).max(1) * STRIPE_MULTIPLE
}

/// Columns of B per block: about `BLOCK_BYTES` of packed values, a multiple of 32, at most
/// `MAX_BLOCK_COLS` (the epilogue's block of dot products stays small).
fn block_cols<T>(d: usize) -> usize {
    let cols = (BLOCK_BYTES / (d * size_of::<T>())).min(MAX_BLOCK_COLS);
    (cols / BLOCK_MULTIPLE).max(1) * BLOCK_MULTIPLE
}

/// The rows of A one task owns: one range between two sets (`rows[0]`); between one set and
/// itself, a stripe from the top (many pairs j > i) and one from the bottom (few), so that
/// tasks do equal work with tall stripes.
pub(crate) type TaskRows = Vec<Range<usize>>;

/// The tasks of a pass, with equal work: at least one per stripe and, rows permitting,
/// `MIN_TASKS`, so that every core has work; at most `max_tasks` when given (for epilogues
/// whose accumulators hold a value per column). Depends only on the shapes, never on the
/// thread count.
pub(crate) fn row_tasks<T: Element>(
    pairs: &Pairs<'_, T>,
    max_tasks: Option<usize>,
) -> Vec<TaskRows> {
    let (a, _) = pairs.sides();
    let n = a.len();
    let stripes_per_task = match pairs {
        Pairs::Between(..) => 1,
        Pairs::Within(_) => 2,
    };
    let tasks = n
        .div_ceil(stripe_rows::<T>(a.dim()) * stripes_per_task)
        .max(MIN_TASKS.min(n.div_ceil(MIN_TASK_ROWS * stripes_per_task)))
        .min(max_tasks.unwrap_or(usize::MAX));
    let stripes = tasks * stripes_per_task;
    let stripe = |s: usize| s * n / stripes..(s + 1) * n / stripes;
    (0..tasks)
        .map(|t| match pairs {
            Pairs::Between(..) => vec![stripe(t)],
            Pairs::Within(_) => vec![stripe(t), stripe(stripes - 1 - t)],
        })
        .collect()
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
    let task = |(rows, mut acc): (TaskRows, E::Acc)| {
        isa.run(Task {
            pairs,
            rows,
            acc: &mut acc,
            epilogue,
        });
        acc
    };
    if pairs.count().saturating_mul(pairs.sides().0.dim()) < PARALLEL_FROM {
        tasks.into_iter().map(task).collect()
    } else {
        tasks.into_par_iter().map(task).collect()
    }
}

/// One task: the stripes of rows `rows` against every column block they pair with.
struct Task<'r, 'p, T, E: Epilogue<T>> {
    pairs: &'r Pairs<'p, T>,
    rows: TaskRows,
    acc: &'r mut E::Acc,
    epilogue: &'r E,
}

impl<T: Element, E: Epilogue<T>> Job<T> for Task<'_, '_, T, E> {
    type Output = ();

    #[inline(always)]
    fn run<K: MicroKernel<T>>(self, kernel: K) {
        let (a, b) = self.pairs.sides();
        let within = matches!(self.pairs, Pairs::Within(_));
        let (d, mr, nr) = (a.dim(), K::MR, K::NR);
        let (stripe, block) = (stripe_rows::<T>(d), block_cols::<T>(d));
        let (mut a_pack, mut b_pack, mut rows) = (Aligned::new(), Aligned::new(), Vec::new());
        let mut dots = vec![T::ZERO; mr * block];
        let mut scratch = Scratch::new();
        let stripes = self.rows.iter().flat_map(|rows| {
            (rows.start..rows.end)
                .step_by(stripe)
                .map(move |start| start..rows.end.min(start + stripe))
        });
        for stripe in stripes {
            pack_panels(a, stripe.clone(), mr, &mut a_pack, &mut rows);
            // Within one set, row i pairs only with j > i ≥ the stripe's first row.
            let first_col = if within { stripe.start + 1 } else { 0 };
            for block_start in (first_col..b.len()).step_by(block) {
                let cols = block_start..b.len().min(block_start + block);
                pack_panels(b, cols.clone(), nr, &mut b_pack, &mut rows);
                for (g, group_start) in stripe.clone().step_by(mr).enumerate() {
                    let group = group_start..stripe.end.min(group_start + mr);
                    if within && group.start + 1 >= cols.end {
                        break; // this group and the ones below have no j > i in the block
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
        }
    }
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
