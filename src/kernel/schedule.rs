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
/// The unit tests cut blocks small (down to 32 columns), so that their passes have several.
const BLOCK_BYTES: usize = if cfg!(test) { 4 << 10 } else { 256 << 10 };
/// The rows of a sweep are a multiple of every micro-kernel's MR (4, 6, 12), so that only the
/// last group of rows of each of a task's ranges can be partial.
const SWEEP_MULTIPLE: usize = 12;
/// Block widths are multiples of every micro-kernel's NR (8, 16, 32).
const BLOCK_MULTIPLE: usize = 32;
/// The widest column block.
pub(super) const MAX_BLOCK_COLS: usize = 512;
/// Passes with fewer multiply-adds than this run on the calling thread.
const PARALLEL_FROM: usize = 1 << 22;

/// Between two sets, a wide pass (a state per row and per column of each task) also cuts the
/// columns into panels of at most about this many (equal numbers of whole blocks): a row's state restarts at each panel and folds
/// into its total there ([`Block::opens_panel`]), so that a tile of one row task against one
/// panel ([`PanelTiles`]) holds a state that merges into the single-process bits. Small
/// enough that a pass of 10⁶ columns has about a thousand tiles to share among shards, large
/// enough that the fold (one merge per row and panel) costs nothing measurable. The unit tests
/// cut panels of two blocks of 32 columns.
const PANEL_COLS: usize = if cfg!(test) { 64 } else { 16384 };

/// Rows of A per sweep: about `SWEEP_BYTES` of packed values (`bytes` each), a multiple of 12.
fn sweep_rows(d: usize, bytes: usize) -> usize {
    let rows = SWEEP_BYTES / d.saturating_mul(bytes);
    (rows / SWEEP_MULTIPLE).max(1) * SWEEP_MULTIPLE
}

/// Columns of B per block: about `BLOCK_BYTES` of packed values (`bytes` each), a multiple
/// of 32, at most `MAX_BLOCK_COLS` (the epilogue's block of dot products stays small).
fn block_cols(d: usize, bytes: usize) -> usize {
    let cols = (BLOCK_BYTES / d.saturating_mul(bytes)).min(MAX_BLOCK_COLS);
    (cols / BLOCK_MULTIPLE).max(1) * BLOCK_MULTIPLE
}

/// Columns of B per panel, of m in all: ⌈m / `PANEL_COLS`⌉ panels of equal numbers of whole
/// blocks (the last one may be shorter), so that every panel starts a block and the tiles of
/// a plan do about equal work.
fn panel_cols(m: usize, (d, bytes): (usize, usize)) -> usize {
    let block = block_cols(d, bytes);
    let panels = m.div_ceil(PANEL_COLS).max(1);
    m.div_ceil(block).div_ceil(panels).max(1) * block
}

/// The rows of A one task owns: one range between two sets (`rows[0]`); between one set and
/// itself, a range from the top (many pairs j > i) and one from the bottom (few), so that
/// tasks do equal work.
pub(crate) type TaskRows = Vec<Range<usize>>;

/// A piece of a pass: the rows of a task against the columns `cols` of B (all of them, or one
/// panel of a wide pass between two sets). One set with itself pairs row i with the columns
/// j > i of `cols`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tile {
    pub(crate) rows: TaskRows,
    pub(crate) cols: Range<usize>,
}

/// The tasks of a pass, each against every column of B, with equal work: one sweep each, or
/// more rows permitting, rounded up to a multiple of `TASK_MULTIPLE` so that every core has
/// work; at most `max_tasks` when given (for epilogues whose accumulators hold a value per
/// column). Depends only on the shapes, never on the thread count.
pub(crate) fn row_tasks<T: Element>(pairs: &Pairs<'_, T>, max_tasks: Option<usize>) -> Vec<Tile> {
    let (a, b) = pairs.sides();
    let within = matches!(pairs, Pairs::Within(_));
    task_rows(a.len(), (a.dim(), size_of::<T>()), within, max_tasks)
        .into_iter()
        .map(|rows| Tile {
            rows,
            cols: 0..b.len(),
        })
        .collect()
}

/// The rows of [`row_tasks`]' tasks, from the shapes alone (`d` and the element's `bytes`).
fn task_rows(
    n: usize,
    (d, bytes): (usize, usize),
    within: bool,
    max_tasks: Option<usize>,
) -> Vec<TaskRows> {
    let ranges_per_task = if within { 2 } else { 1 };
    let tasks = n
        .div_ceil(sweep_rows(d, bytes))
        .next_multiple_of(TASK_MULTIPLE)
        .min(n.div_ceil(MIN_TASK_ROWS))
        .min(max_tasks.unwrap_or(usize::MAX))
        .max(1);
    let ranges = tasks * ranges_per_task;
    let cut = |s: usize| (s as u128 * n as u128 / ranges as u128) as usize;
    let range = |s: usize| cut(s)..cut(s + 1);
    (0..tasks)
        .map(|t| {
            if within {
                vec![range(t), range(ranges - 1 - t)]
            } else {
                vec![range(t)]
            }
        })
        .collect()
}

/// The tiles of a wide pass between two sets (at most `max_tasks` row tasks): each of
/// [`row_tasks`]' tasks against each panel of columns, task after task. Computed from the
/// shapes alone, tile by tile, so that a shape from outside bytes allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct PanelTiles {
    tasks: Vec<Range<usize>>,
    panel: usize,
    m: usize,
}

impl PanelTiles {
    /// The tiles of n rows against m columns of dimension d, of elements of `bytes` bytes.
    pub(crate) fn new(
        (n, m): (usize, usize),
        (d, bytes): (usize, usize),
        max_tasks: usize,
    ) -> Self {
        let tasks = task_rows(n, (d, bytes), false, Some(max_tasks));
        Self {
            tasks: tasks.into_iter().map(|mut rows| rows.remove(0)).collect(),
            panel: panel_cols(m, (d, bytes)),
            m,
        }
    }

    /// The tiles of the pass of `pairs` (between two sets).
    pub(crate) fn of<T: Element>(pairs: &Pairs<'_, T>, max_tasks: usize) -> Self {
        debug_assert!(matches!(pairs, Pairs::Between(..)));
        let (a, b) = pairs.sides();
        Self::new((a.len(), b.len()), (a.dim(), size_of::<T>()), max_tasks)
    }

    /// The panels of columns (at least one).
    fn panels(&self) -> usize {
        self.m.div_ceil(self.panel).max(1)
    }

    /// The number of tiles, unless it overflows.
    pub(crate) fn len(&self) -> Option<usize> {
        self.tasks.len().checked_mul(self.panels())
    }

    /// Tile k (k < [`len`](Self::len)).
    pub(crate) fn get(&self, k: usize) -> Tile {
        let (task, panel) = (k / self.panels(), k % self.panels());
        let start = panel * self.panel;
        Tile {
            rows: vec![self.tasks[task].clone()],
            cols: start..self.m.min(start + self.panel),
        }
    }

    /// The tiles `tiles`, in order (clamped to the last).
    pub(crate) fn select(&self, tiles: Range<usize>) -> Vec<Tile> {
        let end = tiles.end.min(self.len().unwrap_or(usize::MAX));
        (tiles.start..end).map(|k| self.get(k)).collect()
    }
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

/// The pairs each tile of a pass visits, in order.
pub(crate) fn tile_pairs<T: Element>(pairs: &Pairs<'_, T>, tiles: &[Tile]) -> Vec<u64> {
    let within = matches!(pairs, Pairs::Within(_));
    tiles
        .iter()
        .map(|tile| sweep_pairs(&tile.rows, &tile.cols, within))
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

/// Runs a pass: each task (a [`Tile`] from [`row_tasks`] or [`PanelTiles`], with its
/// accumulator) visits its pairs and hands every block to `epilogue`. Returns the
/// accumulators in task order. Parallel over tasks unless the pass is small.
pub(crate) fn run<T: Element, E: Epilogue<T>>(
    isa: Isa,
    pairs: &Pairs<'_, T>,
    tasks: Vec<(Tile, E::Acc)>,
    epilogue: &E,
) -> Vec<E::Acc> {
    // The pairs of the tasks this call runs (a shard's tiles may be a part of the pass).
    let within = matches!(pairs, Pairs::Within(_));
    let total = tasks
        .iter()
        .map(|(tile, _)| sweep_pairs(&tile.rows, &tile.cols, within))
        .sum();
    let progress = progress::pass(total);
    let task = |(tile, mut acc): (Tile, E::Acc)| {
        debug_assert!(!within || tile.cols == (0..pairs.sides().1.len()));
        isa.run(Task {
            pairs,
            tile,
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

/// One task: the sweeps of its tile's rows, each against every column block of its columns
/// it pairs with.
struct Task<'r, 'p, T, E: Epilogue<T>> {
    pairs: &'r Pairs<'p, T>,
    tile: Tile,
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
        let block = block_cols(d, size_of::<T>());
        let panel = panel_cols(b.len(), (d, size_of::<T>()));
        let cols = self.tile.cols.clone();
        let (mut a_pack, mut b_pack, mut rows) = (Aligned::new(), Aligned::new(), Vec::new());
        let mut dots = vec![T::ZERO; mr * block];
        let mut scratch = Scratch::new();
        for sweep in sweeps(&self.tile.rows, sweep_rows(d, size_of::<T>())) {
            if self.progress.is_some_and(progress::Pass::cancelled) {
                return;
            }
            // Each piece of the sweep packed in groups of MR rows, one after another.
            pack_panels(a, &sweep, mr, &mut a_pack, &mut rows);
            // Within one set, row i pairs only with j > i ≥ the sweep's first row.
            let first_col = match sweep.iter().map(|piece| piece.start + 1).min() {
                Some(first) if within => first,
                _ => cols.start,
            };
            for block_start in (first_col..cols.end).step_by(block) {
                let cols = block_start..cols.end.min(block_start + block);
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
                        opens_panel: !within && block_start.is_multiple_of(panel),
                    };
                    self.epilogue.consume(self.acc, &view, &mut scratch);
                }
            }
            if let Some(progress) = self.progress {
                progress.advance(sweep_pairs(&sweep, &cols, within));
            }
        }
        self.epilogue.finish_task(self.acc);
    }
}

/// The pairs a sweep visits: each of its rows i against the columns `cols`, or within one set
/// (`cols` then every column) against the columns j > i.
fn sweep_pairs(sweep: &[Range<usize>], cols: &Range<usize>, within: bool) -> u64 {
    let row = |i: usize| if within { cols.end - 1 - i } else { cols.len() } as u64;
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
    use super::{PanelTiles, Tile, sweeps};

    #[test]
    fn panel_tiles_are_each_task_against_each_panel_of_whole_blocks() {
        // 1100 × 530 at d = 40, f32: three tasks (of at least 512 rows' worth) and, in the
        // unit tests, blocks of 32 columns and panels of two blocks.
        let plan = PanelTiles::new((1100, 530), (40, 4), 16);
        let expected: Vec<Tile> = [0..366, 366..733, 733..1100]
            .into_iter()
            .flat_map(|rows| {
                (0..530).step_by(64).map(move |start| Tile {
                    rows: vec![rows.clone()],
                    cols: start..530.min(start + 64),
                })
            })
            .collect();
        assert_eq!(expected.len(), 27);
        assert_eq!(plan.len(), Some(27));
        assert_eq!(plan.select(0..usize::MAX), expected);
        assert_eq!(plan.select(3..5), expected[3..5]);
        // Shapes from outside bytes: counted without allocating.
        let wide = PanelTiles::new((1, usize::MAX), (1, 8), 16);
        assert_eq!(wide.len(), Some(usize::MAX.div_ceil(512)));
        let tall = PanelTiles::new((usize::MAX, 1), (1, 8), 16);
        assert_eq!(tall.get(15).rows[0].end, usize::MAX);
    }

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
