//! Σ exp(−t‖xᵢ − yⱼ‖²) over the pairs i < j of one set (the uniformity loss), or over the
//! pairs i ≠ j of two paired sets (the cross-modal uniformity).

use crate::kernel::exp::{exp_of, expm1_of, reduced};
use crate::kernel::lanes;
use crate::kernel::logsumexp::LogSumExp;
use std::ops::Range;

use crate::kernel::{
    ALL_TILES, Block, Element, Epilogue, Isa, Pairs, Scratch, row_tasks, run, tiles,
};

/// Exponents that stay above −700 keep every exp a normal f64 (the smallest is e^(−708.4)).
const SAFE_EXPONENT: f64 = 700.0;

/// The Gaussian potential of each pair, from the Gram identity
/// ‖xᵢ − yⱼ‖² = ‖xᵢ‖² + ‖yⱼ‖² − 2 xᵢ·yⱼ (clamped at 0) on the rows as the kernel sees them,
/// times `unscale` (the inverse square of their scale), gathered as a stable log-sum-exp.
/// Between two sets, the pair (i, i) is left out.
struct GaussianPotential<'a> {
    t: f64,
    unscale: f64,
    row_norms: &'a [f64],
    col_norms: &'a [f64],
    /// −t·`unscale`, when no exponent can fall below −700: then every term shares the shift
    /// 0, and a block's terms are summed with no branch and no maximum.
    /// Else (`None`) each row is shifted by its own maximum.
    zero_shift: Option<f64>,
    /// With per-sample sums, the shift of every term: 0 when `zero_shift` is known, else the
    /// largest exponent (found by a first pass), each shifted exponent then floored at −700.
    sample_shift: Option<f64>,
}

/// Each sample's Σ exp(z − shift) and Σ expm1(z − shift) over the pairs that contain it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct SampleSums {
    pub(crate) exps: Vec<f64>,
    pub(crate) excesses: Vec<f64>,
}

impl SampleSums {
    fn new(n: usize) -> Self {
        Self {
            exps: vec![0.0; n],
            excesses: vec![0.0; n],
        }
    }

    /// Adds the terms of row i against the columns `first`, `first + 1`, …: their sums
    /// (`exp`, `expm1`) to sample i, and each term (`exps[k]`, `excesses[k]`) to its column's
    /// sample.
    #[inline(always)]
    fn add(
        &mut self,
        (i, first): (usize, usize),
        (exp, expm1): (f64, f64),
        [exps, excesses]: [&mut [f64]; 2],
    ) {
        self.exps[i] += exp;
        self.excesses[i] += expm1;
        let cols = first..first + exps.len();
        (self.exps[cols.clone()].iter_mut().zip(&*exps)).for_each(|(t, e)| *t += e);
        (self.excesses[cols].iter_mut().zip(&*excesses)).for_each(|(t, x)| *t += x);
    }

    /// Adds `other`, sample by sample.
    fn merge(&mut self, other: &Self) {
        for (total, part) in [
            (&mut self.exps, &other.exps),
            (&mut self.excesses, &other.excesses),
        ] {
            total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
        }
    }
}

/// The per-sample sums of 2^`level` consecutive tasks from task `start`, a multiple of
/// 2^`level` (an aligned block of the [`TaskTree`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SampleBlock {
    pub(crate) start: usize,
    pub(crate) level: u32,
    pub(crate) sums: SampleSums,
}

/// Each sample's sums over the tasks, added in a fixed binary tree over the tasks' indices:
/// the sums of the tasks [k·2ʲ, (k + 1)·2ʲ) are those of its two halves, left + right, and the
/// root's, of [0, 2ᴸ) ⊇ all tasks, the pass's. Blocks join in order, two merging as soon as
/// they are the halves of an aligned block (a binary counter), so the tree holds at most
/// log₂(tasks) + 1 blocks from task 0 (about twice that from another first task), and its
/// result depends on the tasks alone: not on which of them ran together, nor on which shard
/// ran them (a shard's blocks are the aligned blocks of its own tiles, and they join the same
/// way).
#[derive(Default)]
pub(crate) struct TaskTree {
    /// The blocks so far, first to last; none is the left half of the next.
    blocks: Vec<SampleBlock>,
}

impl TaskTree {
    /// Adds the next block, whose tasks follow the last block's.
    pub(crate) fn push(&mut self, mut block: SampleBlock) {
        while let Some(last) = self.blocks.last()
            && last.level == block.level
            && (last.start >> last.level) % 2 == 0
        {
            let mut left = self.blocks.pop().expect("a last block");
            left.sums.merge(&block.sums);
            left.level += 1;
            block = left;
        }
        self.blocks.push(block);
    }

    /// The blocks, first to last.
    pub(crate) fn into_blocks(self) -> Vec<SampleBlock> {
        self.blocks
    }

    /// The sums of all the tasks (the blocks from task 0 on): in the tree, each block
    /// (largest first) adds the sum of the smaller blocks after it, which fill its right
    /// sibling.
    pub(crate) fn root(self) -> Option<SampleSums> {
        let mut blocks = self.blocks.into_iter().rev().map(|block| block.sums);
        let last = blocks.next()?;
        Some(blocks.fold(last, |right, mut left| {
            left.merge(&right);
            left
        }))
    }
}

/// A task's state: the log-sum-exp of its terms, and each sample's sums when they are asked
/// for.
struct Acc {
    total: LogSumExp,
    samples: Option<SampleSums>,
}

impl GaussianPotential<'_> {
    /// (Σ exp(z), Σ expm1(z)) over the terms z = c·(nᵢ + nⱼ − 2 dⱼ)₊ of a row whose squared
    /// norm is `ni`, against columns of squared norms `nj` and dot products `dots`, every z in
    /// [−700, 0]. A map into `exps` and `excesses` (scratch as long as `dots`) that compilers
    /// vectorise, then two sums in eight lanes.
    /// With `SHIFTED`, each term is exp(max(z − `shift`, −700)) instead.
    #[inline(always)]
    fn zero_shift_sums<T: Element, const SHIFTED: bool>(
        (c, shift): (f64, f64),
        ni: f64,
        nj: &[f64],
        dots: &[T],
        scratch: &mut Scratch,
    ) -> (f64, f64) {
        let [exps, excesses] = scratch.rows(dots.len());
        for (((e, x), &nj), &dot) in exps.iter_mut().zip(&mut *excesses).zip(nj).zip(dots) {
            let squared = (ni + nj) - 2.0 * dot.to_f64();
            let z = c * if squared > 0.0 { squared } else { 0.0 };
            let z = if SHIFTED {
                (z - shift).max(-SAFE_EXPONENT)
            } else {
                z
            };
            let pair = reduced(z, T::EXP_DEGREE);
            (*e, *x) = (exp_of(pair), expm1_of(pair));
        }
        (lanes::sum(exps), lanes::sum(excesses))
    }

    /// The terms of row i against the columns `first`, `first + 1`, … whose dot products are
    /// `dots`, shifted by their maximum (any spread).
    #[inline(always)]
    fn shifted_terms<T: Element>(
        &self,
        i: usize,
        first: usize,
        dots: &[T],
        scratch: &mut Scratch,
    ) -> LogSumExp {
        let [exponents, exps, excesses] = scratch.rows(dots.len());
        let ni = self.row_norms[i];
        for ((e, &nj), &dot) in exponents.iter_mut().zip(&self.col_norms[first..]).zip(dots) {
            let squared = (ni + nj) - 2.0 * dot.to_f64();
            // (0, not 0·unscale: the unscale of rows of extreme spread is +∞.)
            *e = -self.t
                * if squared > 0.0 {
                    squared * self.unscale
                } else {
                    0.0
                };
        }
        LogSumExp::of(exponents, exps, excesses)
    }

    /// The terms of rows `rows` (each as the `parts` of its columns) under one shift: the
    /// exponents c·‖xᵢ − yⱼ‖² − `shift` (floored at −700 when `SHIFTED`), summed with no branch
    /// and no maximum, and, when the task keeps them, added to each term's two samples.
    #[inline(always)]
    fn one_shift<'b, T: Element, const SHIFTED: bool>(
        &self,
        acc: &mut Acc,
        rows: std::ops::Range<usize>,
        parts: impl Fn(usize) -> [(usize, &'b [T]); 2],
        (c, shift): (f64, f64),
        scratch: &mut Scratch,
    ) {
        let (mut exp, mut expm1, mut count) = (0.0, 0.0, 0);
        for i in rows {
            for (first, dots) in parts(i).into_iter().filter(|(_, d)| !d.is_empty()) {
                let nj = &self.col_norms[first..][..dots.len()];
                let (e, m) = Self::zero_shift_sums::<T, SHIFTED>(
                    (c, shift),
                    self.row_norms[i],
                    nj,
                    dots,
                    scratch,
                );
                (exp, expm1, count) = (exp + e, expm1 + m, count + dots.len() as u64);
                if let Some(samples) = &mut acc.samples {
                    samples.add((i, first), (e, m), scratch.rows(dots.len()));
                }
            }
        }
        acc.total.merge(LogSumExp::new(shift, exp, expm1, count));
    }
}

impl<T: Element> Epilogue<T> for GaussianPotential<'_> {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        // Within one set row i sees only j > i; between two, the pair (i, i) is skipped: the
        // row's columns before and after it.
        let parts = |i: usize| {
            let (first, dots) = block.row(i);
            let k = if block.is_within() || !(first..first + dots.len()).contains(&i) {
                dots.len()
            } else {
                i - first
            };
            [
                (first, &dots[..k]),
                (i + 1, &dots[(k + 1).min(dots.len())..]),
            ]
        };
        match (self.zero_shift, self.sample_shift) {
            (Some(c), _) => self.one_shift::<T, false>(acc, block.rows(), parts, (c, 0.0), scratch),
            (None, Some(shift)) => {
                let c = -self.t * self.unscale;
                self.one_shift::<T, true>(acc, block.rows(), parts, (c, shift), scratch)
            }
            (None, None) => {
                debug_assert!(acc.samples.is_none(), "per-sample sums need one shift");
                for i in block.rows() {
                    for (first, dots) in parts(i) {
                        acc.total.merge(self.shifted_terms(i, first, dots, scratch));
                    }
                }
            }
        }
    }
}

/// The log-sum-exp of −t·‖xᵢ − yⱼ‖²·`unscale` over the pairs i < j of one set
/// ([`Pairs::Within`]) or the pairs i ≠ j of two paired sets ([`Pairs::Between`], n = m), as
/// the kernel sees them, where `row_norms[i]` and `col_norms[j]` are the kernel's own xᵢ·xᵢ
/// and yⱼ·yⱼ (so identical rows are exactly 0 apart).
pub(crate) fn gaussian_potential<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    (t, unscale): (f64, f64),
    norms: (&[f64], &[f64]),
) -> LogSumExp {
    LogSumExp::sum_of(gaussian_potential_tiles(
        isa,
        pairs,
        (t, unscale),
        norms,
        ALL_TILES,
    ))
}

/// The log-sum-exp of each of the tasks `tiles` of [`gaussian_potential`]'s pass, in order:
/// summed in order from the first task, the pass's own.
pub(crate) fn gaussian_potential_tiles<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    (t, unscale): (f64, f64),
    norms: (&[f64], &[f64]),
    tiles: Range<usize>,
) -> Vec<LogSumExp> {
    let epilogue = GaussianPotential::new((t, unscale), norms);
    batches(isa, &pairs, &epilogue, None, tiles).0
}

/// [`gaussian_potential`], and each sample's share of the sum beyond the mean share:
/// (rₖ − r̄)/S, where rₖ sums the terms of the pairs that contain sample k (row k of A or
/// column k of B), S = ½ Σₖ rₖ sums them all, and r̄ = 2S/n. Computed from the sums of
/// exp(z) when the mean term is below ½, else from those of expm1(z) (rₖ − r̄ = Xₖ − 2X/n with
/// X the sums of expm1, every sample being in 2N/n of the N pairs), so a tight cluster keeps
/// its digits. One pass when every exponent is known to lie within 700 of 0; else a first
/// pass finds the largest exponent and a second shifts every term by it.
pub(crate) fn gaussian_shares<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    (t, unscale): (f64, f64),
    norms: (&[f64], &[f64]),
) -> (LogSumExp, Vec<f64>) {
    let mut epilogue = GaussianPotential::new((t, unscale), norms);
    // Without one shift for all, the first pass's total is the value (to the bit that of
    // `gaussian_potential`), and its largest exponent the shift of the second.
    let first = epilogue.zero_shift.is_none().then(|| {
        let first = pass(isa, &pairs, &epilogue, false).0;
        epilogue.sample_shift = Some(first.shift());
        first
    });
    let (total, samples) = pass(isa, &pairs, &epilogue, true);
    let shares = shares(total, &samples.expect("asked for"));
    (first.unwrap_or(total), shares)
}

/// Each sample's share (rₖ − r̄)/S from the pass's `total` and the sums of every sample
/// ([`gaussian_shares`]).
pub(crate) fn shares(total: LogSumExp, samples: &SampleSums) -> Vec<f64> {
    let (n, count) = (samples.exps.len() as f64, total.count() as f64);
    let (sum, excess) = total.sums();
    if sum / count < 0.5 {
        let mean = 2.0 * sum / n;
        samples.exps.iter().map(|r| (r - mean) / sum).collect()
    } else {
        let mean = 2.0 * excess / n;
        samples.excesses.iter().map(|x| (x - mean) / sum).collect()
    }
}

/// The log-sum-exp of each of the tasks `tiles` of [`gaussian_shares`]' pass, in order, and
/// the aligned blocks of their per-sample sums ([`TaskTree`]); `None` when the pass needs two
/// passes (when some exponent may fall below −700, the second's shift is the first's largest
/// exponent).
pub(crate) fn gaussian_share_tiles<T: Element>(
    isa: Isa,
    pairs: Pairs<'_, T>,
    (t, unscale): (f64, f64),
    norms: (&[f64], &[f64]),
    tiles: Range<usize>,
) -> Option<(Vec<LogSumExp>, Vec<SampleBlock>)> {
    let epilogue = GaussianPotential::new((t, unscale), norms);
    epilogue.zero_shift?;
    let (totals, tree) = batches(isa, &pairs, &epilogue, Some(batch()), tiles);
    Some((totals, tree.into_blocks()))
}

impl<'a> GaussianPotential<'a> {
    /// The potentials at `t` and `unscale` of rows and columns of squared norms `norms`,
    /// without per-sample sums.
    fn new((t, unscale): (f64, f64), (row_norms, col_norms): (&'a [f64], &'a [f64])) -> Self {
        // ‖xᵢ − yⱼ‖² ≤ (‖xᵢ‖ + ‖yⱼ‖)² ≤ 2 (max ‖x‖² + max ‖y‖²): the largest any exponent's
        // magnitude can be (4 max ‖x‖², exactly, within one set).
        let largest = |norms: &[f64]| norms.iter().fold(0.0, |m: f64, &v| m.max(v));
        let bound = 2.0 * (largest(row_norms) + largest(col_norms)) * unscale * t;
        Self {
            t,
            unscale,
            row_norms,
            col_norms,
            zero_shift: (bound <= SAFE_EXPONENT).then_some(-t * unscale),
            sample_shift: None,
        }
    }
}

/// One pass: the total log-sum-exp and, with `per_sample`, each sample's sums.
fn pass<T: Element>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    epilogue: &GaussianPotential<'_>,
    per_sample: bool,
) -> (LogSumExp, Option<SampleSums>) {
    let (totals, tree) = batches(isa, pairs, epilogue, per_sample.then(batch), ALL_TILES);
    let total = LogSumExp::sum_of(totals);
    (total, per_sample.then(|| tree.root()).flatten())
}

/// The tasks of a batch when each keeps per-sample sums: twice the threads.
fn batch() -> usize {
    2 * rayon::current_num_threads()
}

/// The log-sum-exp of each of the tasks `tiles` and, with a `batch` size, their per-sample
/// sums in a [`TaskTree`]. Each task keeps n sums of its own, so with per-sample sums the
/// tasks run a batch at a time, their sums joining the tree before the next batch: the memory
/// is O((threads + log tasks) · n), not O(tasks · n), and the bits do not depend on the
/// batches.
fn batches<T: Element>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    epilogue: &GaussianPotential<'_>,
    batch: Option<usize>,
    tiles: Range<usize>,
) -> (Vec<LogSumExp>, TaskTree) {
    let tiles = tiles.start..tiles.end.min(row_tasks(pairs, None).len());
    let (mut totals, mut tree) = (Vec::new(), TaskTree::default());
    for first in tiles.clone().step_by(batch.unwrap_or(tiles.len()).max(1)) {
        let selected = first..batch.map_or(tiles.end, |batch| (first + batch).min(tiles.end));
        let parts = task_parts(isa, pairs, epilogue, batch.is_some(), selected);
        for (start, part) in (first..).zip(parts) {
            totals.push(part.total);
            if let Some(sums) = part.samples {
                tree.push(SampleBlock {
                    start,
                    level: 0,
                    sums,
                });
            }
        }
    }
    (totals, tree)
}

/// The states of the tasks `tiles` of a pass, in task order.
fn task_parts<T: Element>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    epilogue: &GaussianPotential<'_>,
    per_sample: bool,
    selected: Range<usize>,
) -> Vec<Acc> {
    debug_assert!(
        matches!(pairs, Pairs::Within(_)) || epilogue.row_norms.len() == epilogue.col_norms.len()
    );
    let n = epilogue.row_norms.len();
    let tasks = tiles(row_tasks(pairs, None), selected)
        .into_iter()
        .map(|tile| {
            let samples = per_sample.then(|| SampleSums::new(n));
            (
                tile,
                Acc {
                    total: LogSumExp::EMPTY,
                    samples,
                },
            )
        })
        .collect();
    run(isa, pairs, tasks, epilogue)
}

#[cfg(test)]
mod tests {
    use super::{SampleBlock, SampleSums, TaskTree};

    #[test]
    fn the_task_tree_adds_the_halves_of_aligned_blocks() {
        let tiny = 2f64.powi(-53);
        let sum = |tasks: &[f64]| {
            let mut tree = TaskTree::default();
            for (start, &exp) in tasks.iter().enumerate() {
                let sums = SampleSums {
                    exps: vec![exp],
                    excesses: vec![-exp],
                };
                tree.push(SampleBlock {
                    start,
                    level: 0,
                    sums,
                });
            }
            let root = tree.root().expect("one task or more");
            assert_eq!(root.excesses, [-root.exps[0]]);
            root.exps[0]
        };
        // ((1 + t) + (t + t)) + (t + t) with t = 2⁻⁵³ is 1 + 4t (1 + t ties to even, 1),
        // where the fold from the left, (((((1 + t) + t) + t) + t) + t), stays at 1.
        assert_eq!(sum(&[1.0, tiny, tiny, tiny, tiny, tiny]), 1.0 + 4.0 * tiny);
        // Three tasks: (a + b) + c.
        assert_eq!(sum(&[tiny, tiny, 1.0]), 1.0 + 2.0 * tiny);
        assert_eq!(sum(&[1.0, tiny, tiny]), 1.0);
        assert_eq!(sum(&[0.5]), 0.5);
        assert!(TaskTree::default().root().is_none());
    }
}
