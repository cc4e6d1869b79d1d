//! Tasks, stripes and blocks: the loop nest around the micro-kernel, and rayon.

use std::ops::Range;

use rayon::prelude::*;

use super::pack::pack_panels;
use super::simd::{Isa, Job, MicroKernel};
use super::{Block, Epilogue, Pairs, Rows};
use crate::Scalar;

/// Bytes of a packed stripe of A (read from L2/L3, once per column block).
const STRIPE_BYTES: usize = 1 << 20;
/// Bytes of a packed column block of B (kept in L2 while a stripe streams past it).
const BLOCK_BYTES: usize = 192 << 10;
/// Stripe heights are multiples of every micro-kernel's MR (4, 6, 12).
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

/// The tasks of a pass over the rows of `pairs`: whole stripes, grouped into at most
/// `max_tasks` contiguous ranges when given (for epilogues whose accumulators hold a value
/// per column). Depends only on the shapes, never on the thread count.
pub(crate) fn row_tasks<T: Scalar>(
    pairs: &Pairs<'_, T>,
    max_tasks: Option<usize>,
) -> Vec<Range<usize>> {
    let (a, _) = pairs.sides();
    let (n, stripe) = (a.len(), stripe_rows::<T>(a.dim()));
    let stripes = n.div_ceil(stripe);
    let per_task = max_tasks.map_or(1, |max| stripes.div_ceil(max.max(1))) * stripe;
    (0..n)
        .step_by(per_task)
        .map(|start| start..n.min(start + per_task))
        .collect()
}

/// Runs a pass: each task (a range of rows of A from [`row_tasks`], with its accumulator)
/// visits its pairs and hands every block to `epilogue`. Returns the accumulators in task
/// order. Parallel over tasks unless the pass is small.
pub(crate) fn run<T: Scalar, E: Epilogue<T>>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    tasks: Vec<(Range<usize>, E::Acc)>,
    epilogue: &E,
) -> Vec<E::Acc> {
    let task = |(rows, mut acc): (Range<usize>, E::Acc)| {
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
    rows: Range<usize>,
    acc: &'r mut E::Acc,
    epilogue: &'r E,
}

impl<T: Scalar, E: Epilogue<T>> Job<T> for Task<'_, '_, T, E> {
    type Output = ();

    #[inline(always)]
    fn run<K: MicroKernel<T>>(self, kernel: K) {
        let (a, b) = self.pairs.sides();
        let within = matches!(self.pairs, Pairs::Within(_));
        let (d, mr, nr) = (a.dim(), K::MR, K::NR);
        let (stripe, block) = (stripe_rows::<T>(d), block_cols::<T>(d));
        let (mut a_pack, mut b_pack, mut row) = (Vec::new(), Vec::new(), Vec::new());
        let mut dots = vec![T::ZERO; mr * block];
        for stripe_start in self.rows.clone().step_by(stripe) {
            let stripe = stripe_start..self.rows.end.min(stripe_start + stripe);
            pack_panels(a, stripe.clone(), mr, &mut a_pack, &mut row);
            // Within one set, row i pairs only with j > i ≥ the stripe's first row.
            let first_col = if within { stripe.start + 1 } else { 0 };
            for block_start in (first_col..b.len()).step_by(block) {
                let cols = block_start..b.len().min(block_start + block);
                pack_panels(b, cols.clone(), nr, &mut b_pack, &mut row);
                for (g, group_start) in stripe.clone().step_by(mr).enumerate() {
                    let group = group_start..stripe.end.min(group_start + mr);
                    if within && group.start + 1 >= cols.end {
                        break; // this group and the ones below have no j > i in the block
                    }
                    let a_panel = &a_pack[g * d * mr..][..d * mr];
                    for (p, panel_start) in cols.clone().step_by(nr).enumerate() {
                        if within && panel_start + nr <= group.start + 1 {
                            continue; // every j of the panel is ≤ every i of the group
                        }
                        let b_panel = &b_pack[p * d * nr..][..d * nr];
                        kernel.tile(d, a_panel, b_panel, &mut dots[p * nr..], block);
                    }
                    let view = Block {
                        rows: group,
                        cols: cols.clone(),
                        dots: &dots,
                        stride: block,
                        within,
                    };
                    self.epilogue.consume(self.acc, &view);
                }
            }
        }
    }
}

/// `fma_dot(aᵢ, bᵢ)` for every i (both sides as the kernel sees them, shifts applied): the
/// diagonal of a pass, bitwise equal to the dot products its blocks hold. Parallel over
/// chunks of rows; eight rows at a time keep eight independent fused multiply-add chains in
/// flight.
pub(crate) fn paired_dots<T: Scalar>(isa: Isa, a: Rows<'_, T>, b: Rows<'_, T>) -> Vec<T> {
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

impl<T: Scalar> Job<T> for PairedDots<'_, T> {
    type Output = Vec<T>;

    #[inline(always)]
    fn run<K: MicroKernel<T>>(self, _: K) -> Vec<T> {
        const LANES: usize = 8;
        let d = self.a.dim();
        let mut out = Vec::with_capacity(self.rows.len());
        let (mut xs, mut ys) = (vec![T::ZERO; LANES * d], vec![T::ZERO; LANES * d]);
        for start in self.rows.clone().step_by(LANES) {
            let count = LANES.min(self.rows.end - start);
            for l in 0..count {
                self.a.copy_row(start + l, &mut xs[l * d..][..d]);
                self.b.copy_row(start + l, &mut ys[l * d..][..d]);
            }
            let mut acc = [T::ZERO; LANES];
            for k in 0..d {
                for (l, acc) in acc.iter_mut().enumerate() {
                    *acc = xs[l * d + k].mul_add(ys[l * d + k], *acc);
                }
            }
            out.extend_from_slice(&acc[..count]);
        }
        out
    }
}
