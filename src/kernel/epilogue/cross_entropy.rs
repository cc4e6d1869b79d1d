//! The row-wise and column-wise log-sum-exp of the logits s·aᵢ·bⱼ: both cross-entropies of
//! the contrastive loss from one pass; and a second pass, given them, for its jackknife.

use std::convert::Infallible;
use std::ops::Range;

use super::{MAX_WIDE_TASKS, RowsAndCols, merge_panel_tiles, rows_and_cols, rows_and_cols_tiles};
use crate::kernel::exp::{UNDERFLOW, exp_expm1, exp_of, reduced};
use crate::kernel::logsumexp::OnlineLogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, PanelTiles, Rows, Scratch, lanes};

/// Logits spread over at most this much share one shift: with |aᵢ·bⱼ| ≤ M every logit lies in
/// [−sM, sM], so while 2sM ≤ 700 each exp(zᵢⱼ − sM) ≥ e^(−700) stays a normal f64 and one
/// exponential per pair feeds both its row's and its column's sum.
const ONE_SHIFT_SPREAD: f64 = 700.0;

/// Online log-sum-exp of every row and every column of the logits, flash-attention style:
/// with one shift for every logit when `one_shift` is known to be safe, else each row and each
/// column shifted by its own maximum in every block (two exponentials per pair).
pub(super) struct CrossEntropy {
    scale: f64,
    one_shift: Option<f64>,
}

/// The shifts of a block's column parts: one for every column, or each column's own.
#[derive(Clone, Copy)]
pub(super) enum Shifts<'a> {
    One(f64),
    Each(&'a [f64]),
}

/// A row's log-sum-exp in a pass whose columns are cut into panels: the panels before the
/// current one, merged in order, and the current panel's. A tile of one panel thus holds the
/// panel's own log-sum-exp, and the tiles of a row merged panel after panel give the bits of
/// the row in one process.
#[derive(Debug, Clone, Copy)]
pub(super) struct PanelLogSumExp {
    done: OnlineLogSumExp,
    panel: OnlineLogSumExp,
}

impl PanelLogSumExp {
    /// No terms yet.
    pub(super) const EMPTY: Self = Self {
        done: OnlineLogSumExp::EMPTY,
        panel: OnlineLogSumExp::EMPTY,
    };

    /// Adds terms of the current panel (as [`OnlineLogSumExp::add`]).
    #[inline(always)]
    pub(super) fn add(&mut self, shift: f64, sum: f64) {
        self.panel.add(shift, sum);
    }

    /// Starts the next panel.
    #[inline(always)]
    fn open_panel(&mut self) {
        self.done
            .merge(std::mem::replace(&mut self.panel, OnlineLogSumExp::EMPTY));
    }

    /// The log-sum-exp of every panel so far.
    pub(super) fn total(self) -> OnlineLogSumExp {
        let mut total = self.done;
        total.merge(self.panel);
        total
    }
}

/// Where the parts of a block's log-sum-exps go.
pub(super) trait Parts {
    /// Row i starts the next panel of columns (before its parts in the block that opens it).
    #[inline(always)]
    fn open_panel(&mut self, _i: usize) {}
    /// Row i's part: `sum` = Σⱼ exp(zᵢⱼ − `shift`) over the block's columns, whose terms are
    /// `exps` (in column order); the logits zᵢⱼ themselves where the shift is the row's
    /// maximum in the block (some terms may then underflow), else `None`.
    fn row_part(&mut self, i: usize, shift: f64, exps: &[f64], logits: Option<&[f64]>, sum: f64);
    /// The columns' parts: `sums[j − cols.start]` = Σᵢ exp(zᵢⱼ − shiftⱼ) over the block's rows.
    fn col_parts(&mut self, cols: Range<usize>, shifts: Shifts<'_>, sums: &[f64]);
}

type Acc = RowsAndCols<PanelLogSumExp, OnlineLogSumExp>;

impl Parts for Acc {
    #[inline(always)]
    fn open_panel(&mut self, i: usize) {
        self.row(i).open_panel();
    }

    #[inline(always)]
    fn row_part(&mut self, i: usize, shift: f64, _: &[f64], _: Option<&[f64]>, sum: f64) {
        self.row(i).add(shift, sum);
    }

    #[inline(always)]
    fn col_parts(&mut self, cols: Range<usize>, shifts: Shifts<'_>, sums: &[f64]) {
        add_col_parts(self.cols(cols), shifts, sums);
    }
}

/// Adds a block's column parts to the columns' accumulators.
#[inline(always)]
pub(super) fn add_col_parts(acc: &mut [OnlineLogSumExp], shifts: Shifts<'_>, sums: &[f64]) {
    match shifts {
        Shifts::One(shift) => {
            for (c, &sum) in acc.iter_mut().zip(sums) {
                c.add(shift, sum);
            }
        }
        Shifts::Each(maxima) => {
            for ((c, &sum), &m) in acc.iter_mut().zip(sums).zip(maxima) {
                c.add(m, sum);
            }
        }
    }
}

impl CrossEntropy {
    /// The epilogue for a finite scale s > 0 and `dot_bound` ≥ every |aᵢ·bⱼ|.
    pub(super) fn new(scale: f64, dot_bound: f64) -> Self {
        let largest = scale * dot_bound;
        Self {
            scale,
            one_shift: (2.0 * largest <= ONE_SHIFT_SPREAD).then_some(largest),
        }
    }

    /// Hands the parts of `block`'s log-sum-exps to `parts`: every row's, then the columns'.
    #[inline(always)]
    pub(super) fn parts<T: Element>(
        &self,
        block: &Block<'_, T>,
        scratch: &mut Scratch,
        parts: &mut impl Parts,
    ) {
        debug_assert!(!block.is_within(), "the cross-entropies pair two sets");
        let (s, cols) = (self.scale, block.cols());
        if block.opens_panel() {
            block.rows().for_each(|i| parts.open_panel(i));
        }
        let [z, exps, col_sums, col_max] = scratch.rows(cols.len());
        col_sums.fill(0.0);
        if let Some(shift) = self.one_shift {
            for i in block.rows() {
                for (e, &dot) in exps.iter_mut().zip(block.row(i).1) {
                    *e = exp_of(reduced(s * dot.to_f64() - shift, T::EXP_DEGREE));
                }
                for (c, &e) in col_sums.iter_mut().zip(&*exps) {
                    *c += e;
                }
                parts.row_part(i, shift, exps, None, lanes::sum(exps));
            }
            parts.col_parts(cols, Shifts::One(shift), col_sums);
        } else {
            // Each row and each column shifted by its own maximum in the block.
            col_max.fill(f64::NEG_INFINITY);
            for i in block.rows() {
                for ((m, z), &dot) in col_max.iter_mut().zip(&mut *z).zip(block.row(i).1) {
                    *z = s * dot.to_f64();
                    *m = m.max(*z);
                }
            }
            for i in block.rows() {
                for (z, &dot) in z.iter_mut().zip(block.row(i).1) {
                    *z = s * dot.to_f64();
                }
                let row_max = lanes::max(z);
                for (e, &z) in exps.iter_mut().zip(&*z) {
                    *e = exp_expm1(z - row_max).0;
                }
                parts.row_part(i, row_max, exps, Some(z), lanes::sum(exps));
                for ((c, &z), &m) in col_sums.iter_mut().zip(&*z).zip(&*col_max) {
                    *c += exp_expm1(z - m).0;
                }
            }
            parts.col_parts(cols, Shifts::Each(col_max), col_sums);
        }
    }
}

impl<T: Element> Epilogue<T> for CrossEntropy {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        self.parts(block, scratch, acc);
    }
}

/// (log Σⱼ exp(s·aᵢ·bⱼ) for each row i, log Σᵢ exp(s·aᵢ·bⱼ) for each column j), for a finite
/// scale s > 0 and `dot_bound` ≥ every |aᵢ·bⱼ| (max ‖aᵢ‖ · max ‖bⱼ‖).
pub(crate) fn cross_entropies<T: Element>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    scale: f64,
    dot_bound: f64,
) -> (Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>) {
    let epilogue = CrossEntropy::new(scale, dot_bound);
    let init = (PanelLogSumExp::EMPTY, OnlineLogSumExp::EMPTY);
    let (rows, cols) = rows_and_cols(isa, (a, b), &epilogue, init, merge_lse);
    (rows.into_iter().map(PanelLogSumExp::total).collect(), cols)
}

/// Merges a later part of a log-sum-exp.
fn merge_lse(total: &mut OnlineLogSumExp, part: OnlineLogSumExp) {
    total.merge(part);
}

/// Each of the tiles `tiles` of [`cross_entropies`]' pass ([`PanelTiles`](crate::kernel::PanelTiles)),
/// in order: the log-sum-exp of each of its rows over its panel of columns, and of each of
/// its columns over its rows.
pub(crate) fn cross_entropy_tiles<T: Element>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    (scale, dot_bound): (f64, f64),
    tiles: Range<usize>,
) -> Vec<(Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>)> {
    let epilogue = CrossEntropy::new(scale, dot_bound);
    let init = (PanelLogSumExp::EMPTY, OnlineLogSumExp::EMPTY);
    rows_and_cols_tiles(isa, (a, b), &epilogue, init, tiles)
        .into_iter()
        .map(|(rows, cols)| (rows.into_iter().map(PanelLogSumExp::total).collect(), cols))
        .collect()
}

/// [`cross_entropies`] from all the tiles of its pass, in order (`shape`: n, m, d and the
/// element's bytes): to the bit the pass's own; `None` for tiles of the wrong sizes.
pub(crate) fn merge_cross_entropy_tiles(
    tiles: Vec<(Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>)>,
    shape: (usize, usize, usize, usize),
) -> Option<(Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>)> {
    let init = (OnlineLogSumExp::EMPTY, OnlineLogSumExp::EMPTY);
    merge_panel_tiles(tiles, shape, init, (merge_lse, merge_lse))
}

/// log(1 − p) by its series −p·(1 + p/2 + … + p⁶/7) for p up to this: the first term left
/// out, p⁷/8, and those after it are at most 2.2e-16 of the sum, so the series is as exact as
/// p itself (and the map vectorises, where `ln_1p` is a library call).
const SERIES_UP_TO: f64 = 1.0 / 128.0;

/// 1/k for k = 1, …, 7: the series of −log(1 − p)/p.
const INVERSES: [f64; 7] = [
    1.0,
    1.0 / 2.0,
    1.0 / 3.0,
    1.0 / 4.0,
    1.0 / 5.0,
    1.0 / 6.0,
    1.0 / 7.0,
];

/// Above this, p is most of its row's (column's) weight: at most one entry of a row (column)
/// can be, and log(1 − p) is the log of the rest of the weight, summed without p (1 − p would
/// cancel: p rounds to 1 once the rest is below 2⁻⁵³).
pub(super) const MOST: f64 = 0.75;

/// The shares are searched for large ones this many at a time.
const LARGE_CHUNK: usize = 8;

/// A rest below this may be made of terms floored at e^(−708) (each exponent is floored at
/// [`UNDERFLOW`] so that every term is a normal number): its log is then recomputed exactly.
pub(super) const TINY_REST: f64 = 1e-280;

/// The second pass of the contrastive loss's jackknife. Given every row's and every column's
/// final log-sum-exp, it forms each entry's share of its row, p = exp(zₖⱼ − lseₖ), and of its
/// column, q = exp(zₖⱼ − lse′ⱼ), off the diagonal, and sums log(1 − p) per column and
/// log(1 − q) per row: what leaving a sample out (its row and its column) takes from each
/// other row's and column's log-sum-exp.
struct LeaveOneOut<'a> {
    scale: f64,
    row_lse: &'a [f64],
    col_lse: &'a [f64],
    /// (exp(lseₖ) for each row, exp(−lse′ⱼ) for each column) where every p is a normal
    /// number and these are finite: then q = p·exp(lseₖ)·exp(−lse′ⱼ), two roundings for an
    /// exponential. Else (`None`) q is an exponential of its own.
    factors: Option<(Vec<f64>, Vec<f64>)>,
}

/// Σ log(1 − ·) over the entries of a row or a column whose share is at most
/// [`SERIES_UP_TO`], and the sum of the shares at most [`MOST`] (the diagonal's included).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Sums {
    logs: f64,
    rest: f64,
}

impl Sums {
    /// Adds a later part.
    fn add(&mut self, part: Self) {
        self.logs += part.logs;
        self.rest += part.rest;
    }

    /// Whether a pass could have summed these over `entries` entries of a row (a column):
    /// the row's shares p add up to 1 (to rounding), so their rest is in [0, 1] (a margin of 2
    /// here); its logs are those of the other side's shares q, one log(1 − q) ≥ log(1 − 1/128)
    /// per entry.
    fn plausible(self, entries: usize) -> bool {
        let floor = -(entries as f64) / 127.0;
        (floor..=0.0).contains(&self.logs) && (0.0..=2.0).contains(&self.rest)
    }
}

/// Which log-sum-exp an entry's share is of.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    /// p = exp(zₖⱼ − lseₖ): its log(1 − p) goes to column j.
    Row,
    /// q = exp(zₖⱼ − lse′ⱼ): its log(1 − q) goes to row k.
    Column,
}

/// An off-diagonal share above [`SERIES_UP_TO`] of a row's log-sum-exp (p, kept by the row,
/// `index` its column) or of a column's (q, kept by the column, `index` its row): its
/// log(1 − ·) is taken after the pass, when the rests are complete.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Large {
    index: usize,
    share: f64,
}

/// The most large shares a row or column has: they add up to at most 1 (to rounding), each
/// above 1/128. A row or column keeps one more than this to mark that log-sum-exps given to
/// the pass are not its rows' (which would otherwise make nearly every share large).
const MOST_LARGE: usize = 128;

/// Keeps a large share, up to one past [`MOST_LARGE`].
fn keep(large: &mut Vec<Large>, entry: Large) {
    if large.len() <= MOST_LARGE {
        large.push(entry);
    }
}

/// A row's (a column's) sums over one panel of columns (over one task's rows), and the large
/// shares met there, in order.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Part {
    sums: Sums,
    large: Vec<Large>,
}

impl Part {
    /// Adds a later part (of the next task, for a column).
    fn merge(&mut self, next: Self) {
        self.sums.add(next.sums);
        self.large.extend(next.large);
    }

    /// Whether the part could be a pass's: plausible sums, and at most [`MOST_LARGE`] large
    /// shares, each finite, above [`SERIES_UP_TO`] and at most 1 (to rounding), of an
    /// `index` in `indices` but `own` (the diagonal leaves with its own sample).
    fn plausible(&self, indices: &Range<usize>, own: usize) -> bool {
        let large = |l: &Large| {
            l.share > SERIES_UP_TO && l.share <= 2.0 && indices.contains(&l.index) && l.index != own
        };
        let entries = indices.len();
        self.sums.plausible(entries)
            && self.large.len() <= MOST_LARGE
            && self.large.iter().all(large)
    }
}

/// A row's state: the sums of the panels before the current one, added in order, and the
/// current panel's part, with every large share so far. A pass over several panels thus adds
/// a row's sums as its panels' tiles merged in order do.
#[derive(Debug, Clone, Default)]
struct RowSums {
    done: Sums,
    current: Part,
}

impl RowSums {
    /// Starts the next panel.
    fn open_panel(&mut self) {
        self.done.add(std::mem::take(&mut self.current.sums));
    }

    /// Adds the next panel's part (of a tile of its own).
    fn push_panel(&mut self, part: Part) {
        self.open_panel();
        self.current.sums = part.sums;
        self.current.large.extend(part.large);
    }

    /// The sums over every panel so far.
    fn total(&self) -> Sums {
        let mut total = self.done;
        total.add(self.current.sums);
        total
    }
}

/// log(1 − p) by the series for p ≤ [`SERIES_UP_TO`], else 0 (the large shares are taken
/// apart): branch-free.
#[inline(always)]
fn series_term(p: f64) -> f64 {
    let mut c = INVERSES[6];
    for &k in INVERSES[..6].iter().rev() {
        c = c.mul_add(p, k);
    }
    if p <= SERIES_UP_TO { -p * c } else { 0.0 }
}

/// p if it is part of a rest (p ≤ [`MOST`]), else 0: branch-free.
#[inline(always)]
fn rest_term(p: f64) -> f64 {
    if p <= MOST { p } else { 0.0 }
}

impl<T: Element> Epilogue<T> for LeaveOneOut<'_> {
    type Acc = RowsAndCols<RowSums, Part>;

    #[inline(always)]
    fn consume(&self, acc: &mut Self::Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        debug_assert!(!block.is_within(), "the cross-entropies pair two sets");
        let (s, cols) = (self.scale, block.cols());
        let [p, q, col_logs, col_rest] = scratch.rows(cols.len());
        col_logs.fill(0.0);
        col_rest.fill(0.0);
        if block.opens_panel() {
            block.rows().for_each(|k| acc.row(k).open_panel());
        }
        let col_lse = &self.col_lse[cols.clone()];
        let share = |z: f64, lse: f64| exp_of(reduced((z - lse).max(UNDERFLOW), T::EXP_DEGREE));
        for k in block.rows() {
            let (row_lse, dots) = (self.row_lse[k], block.row(k).1);
            if let Some((row_exp, col_exp)) = &self.factors {
                let (row_exp, col_exp) = (row_exp[k], &col_exp[cols.clone()]);
                let shares = p.iter_mut().zip(&mut *q).zip(dots).zip(col_exp);
                for (((p, q), &dot), &col_exp) in shares {
                    *p = share(s * dot.to_f64(), row_lse);
                    *q = *p * row_exp * col_exp;
                }
            } else {
                let shares = p.iter_mut().zip(&mut *q).zip(dots).zip(col_lse);
                for (((p, q), &dot), &col_lse) in shares {
                    let z = s * dot.to_f64();
                    (*p, *q) = (share(z, row_lse), share(z, col_lse));
                }
            }
            let row = &mut acc.row(k).current;
            row.sums.rest += lanes::sum_of(p, rest_term);
            for (r, &q) in col_rest.iter_mut().zip(&*q) {
                *r += rest_term(q);
            }
            // The diagonal leaves with its own sample, not with another.
            if cols.contains(&k) {
                (p[k - cols.start], q[k - cols.start]) = (0.0, 0.0);
            }
            for (c, &p) in col_logs.iter_mut().zip(&*p) {
                *c += series_term(p);
            }
            row.sums.logs += lanes::sum_of(q, series_term);
            large_shares(p, cols.start, |j, share| {
                keep(&mut row.large, Large { index: j, share });
            });
            let col_parts = acc.cols(cols.clone());
            large_shares(q, cols.start, |j, share| {
                keep(
                    &mut col_parts[j - cols.start].large,
                    Large { index: k, share },
                );
            });
        }
        for ((c, &logs), &rest) in acc.cols(cols).iter_mut().zip(&*col_logs).zip(&*col_rest) {
            c.sums.logs += logs;
            c.sums.rest += rest;
        }
    }
}

/// Calls `large(j, share)` for each share above [`SERIES_UP_TO`] among `shares` (of the
/// columns from `first`), in order.
#[inline(always)]
fn large_shares(shares: &[f64], first: usize, mut large: impl FnMut(usize, f64)) {
    if lanes::max(shares) <= SERIES_UP_TO {
        return;
    }
    // Eight at a time: only the chunks that hold a large share are read one by one.
    for (chunk, first) in shares
        .chunks(LARGE_CHUNK)
        .zip((first..).step_by(LARGE_CHUNK))
    {
        if lanes::max(chunk) > SERIES_UP_TO {
            (chunk.iter().zip(first..))
                .filter(|&(&share, _)| share > SERIES_UP_TO)
                .for_each(|(&share, j)| large(j, share));
        }
    }
}

/// For n = m and the final log-sum-exps of [`cross_entropies`] (`row_lse`, `col_lse`):
/// (Σ_{k≠j} log(1 − pₖⱼ) for each column j, Σ_{j≠k} log(1 − qₖⱼ) for each row k), with
/// pₖⱼ = exp(zₖⱼ − lseₖ) and qₖⱼ = exp(zₖⱼ − lse′ⱼ). Leaving sample i out turns row k's
/// log-sum-exp into lseₖ + log(1 − pₖᵢ) and column j's into lse′ⱼ + log(1 − qᵢⱼ), so the first
/// vector is what the rows lose, summed, when column j leaves, the second what the columns lose
/// when row k leaves.
///
/// Each log(1 − p) errs by a few ulps of p (the series, p ≤ 1/128), of log(1 − p) (`ln_1p`,
/// p ≤ 3/4), or of the rest 1 − p (summed without p, above 3/4), on top of p's own error (an
/// ulp of the exponent zₖⱼ − lseₖ, or the Taylor degree of f32 passes). A rest that underflows
/// (below 1e-280, possible only where logits spread over 600 and more) is recomputed exactly
/// by a pass of its own row (column) without the large share's column (row).
pub(crate) fn leave_one_out_logs<T: Element>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    (scale, dot_bound): (f64, f64),
    (row_lse, col_lse): (&[f64], &[f64]),
) -> (Vec<f64>, Vec<f64>) {
    debug_assert!(a.len() == b.len() && row_lse.len() == a.len() && col_lse.len() == b.len());
    let epilogue = LeaveOneOut::new((scale, dot_bound), (row_lse, col_lse));
    let init = (RowSums::default(), Part::default());
    let (rows, cols) = rows_and_cols(isa, (a, b), &epilogue, init, Part::merge);
    let exact = |side, (k, j)| -> Result<f64, Infallible> {
        Ok(match side {
            Side::Row => log_sum_exp_without(isa, (a, b), (k, j), (scale, dot_bound)) - row_lse[k],
            Side::Column => {
                log_sum_exp_without(isa, (b, a), (j, k), (scale, dot_bound)) - col_lse[j]
            }
        })
    };
    let Ok(logs) = removed_logs(&rows, &cols, exact);
    logs
}

impl<'a> LeaveOneOut<'a> {
    /// The second pass at logit scale s with `dot_bound` ≥ every |aᵢ·bⱼ|, given the first's
    /// log-sum-exps (of n = m rows, of columns).
    fn new((scale, dot_bound): (f64, f64), (row_lse, col_lse): (&'a [f64], &'a [f64])) -> Self {
        // Every exponent z − lse is at least −2sM − ln n, and |lse| at most sM + ln n.
        let spread = 2.0 * scale * dot_bound + (row_lse.len() as f64).ln();
        let factors = (spread <= ONE_SHIFT_SPREAD).then(|| {
            let exps = |lse: &[f64], sign: f64| lse.iter().map(|l| (sign * l).exp()).collect();
            (exps(row_lse, 1.0), exps(col_lse, -1.0))
        });
        Self {
            scale,
            row_lse,
            col_lse,
            factors,
        }
    }
}

/// What leaving each sample out takes from the other rows' and columns' log-sum-exps (as
/// [`leave_one_out_logs`]), from the pass's rows and columns: each column's (row's) sum of
/// the series, then the log(1 − ·) of every large share, taken now that the rests are
/// complete, the rows' shares in row order, then the columns' in column order (so each sum
/// takes its terms in the order of the other index); `exact(side, (k, j))` gives that of the
/// share of row k and column j where its rest underflows.
fn removed_logs<E>(
    rows: &[RowSums],
    cols: &[Part],
    mut exact: impl FnMut(Side, (usize, usize)) -> Result<f64, E>,
) -> Result<(Vec<f64>, Vec<f64>), E> {
    let mut by_col: Vec<f64> = cols.iter().map(|c| c.sums.logs).collect();
    let mut by_row: Vec<f64> = rows.iter().map(|r| r.total().logs).collect();
    for (k, row) in rows.iter().enumerate() {
        let rest = row.total().rest;
        for &Large { index: j, share } in &row.current.large {
            by_col[j] += log_of_rest(share, rest, || exact(Side::Row, (k, j)))?;
        }
    }
    for (j, col) in cols.iter().enumerate() {
        for &Large { index: k, share } in &col.large {
            by_row[k] += log_of_rest(share, col.sums.rest, || exact(Side::Column, (k, j)))?;
        }
    }
    Ok((by_col, by_row))
}

/// log(1 − p) for a share p > [`SERIES_UP_TO`] whose row (column) sums `rest` without it when
/// p > [`MOST`]; `exact` computes it where the rest underflows.
fn log_of_rest<E>(share: f64, rest: f64, exact: impl FnOnce() -> Result<f64, E>) -> Result<f64, E> {
    if share <= MOST {
        Ok((-share).ln_1p())
    } else if rest >= TINY_REST {
        Ok(rest.ln())
    } else {
        exact()
    }
}

/// One tile of [`leave_one_out_logs`]' pass ([`PanelTiles`]: a task's rows against a panel of
/// columns): each of its rows' sums over its panel, with the large shares met there, and each
/// of its panel's columns' over its rows.
pub(crate) type LeaveOneOutTile = (Vec<Part>, Vec<Part>);

/// The tiles `tiles` of [`leave_one_out_logs`]' pass (arguments as there), in order; `None`
/// if a row or column meets more large shares than a pass given its rows' log-sum-exps can
/// (log-sum-exps of other rows, which could make nearly every share large: the tile stops
/// keeping them).
pub(crate) fn leave_one_out_tiles<T: Element>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    bounds: (f64, f64),
    lse: (&[f64], &[f64]),
    tiles: Range<usize>,
) -> Option<Vec<LeaveOneOutTile>> {
    let epilogue = LeaveOneOut::new(bounds, lse);
    let init = (RowSums::default(), Part::default());
    let parts = rows_and_cols_tiles(isa, (a, b), &epilogue, init, tiles);
    let kept = |part: &Part| part.large.len() <= MOST_LARGE;
    // A tile is one panel: its rows' sums before it are nothing.
    (parts.into_iter())
        .map(|(rows, cols)| {
            let rows: Vec<Part> = rows.into_iter().map(|row| row.current).collect();
            (rows.iter().chain(&cols).all(kept)).then_some((rows, cols))
        })
        .collect()
}

/// [`leave_one_out_logs`] from all the tiles of its pass, in order (`shape`: n = m, d and the
/// element's bytes): to the bit the pass's own. `None` for tiles of the wrong sizes (tiles
/// from outside bytes), for parts no pass makes ([`Part::plausible`]), or for a rest that
/// underflows: that needs a pass of the rows themselves, and the sharded jackknife's plans
/// keep every rest above it.
pub(crate) fn merge_leave_one_out_tiles(
    tiles: Vec<LeaveOneOutTile>,
    shape: (usize, usize, usize, usize),
) -> Option<(Vec<f64>, Vec<f64>)> {
    let (n, m, d, bytes) = shape;
    let plan = PanelTiles::new((n, m), (d, bytes), MAX_WIDE_TASKS);
    let plausible = |k: usize, (rows, cols): &LeaveOneOutTile| {
        let tile = plan.get(k);
        let (own_rows, panel) = (tile.rows[0].clone(), tile.cols);
        (rows.iter().zip(own_rows.clone())).all(|(row, i)| row.plausible(&panel, i))
            && (cols.iter().zip(panel.clone())).all(|(col, j)| col.plausible(&own_rows, j))
    };
    if plan.len() != Some(tiles.len()) || !(tiles.iter().enumerate()).all(|(k, t)| plausible(k, t))
    {
        return None;
    }
    let init = (RowSums::default(), Part::default());
    let merge_row = |total: &mut RowSums, part: Part| total.push_panel(part);
    let (rows, cols) = merge_panel_tiles(tiles, shape, init, (merge_row, Part::merge))?;
    removed_logs(&rows, &cols, |_, _| Err(())).ok()
}

/// log Σ_{j≠skip} exp(s·aₖ·bⱼ): row k of A against the rows of B but `skip`, by a pass of
/// its own (the same dot products, bit for bit).
fn log_sum_exp_without<T: Element>(
    isa: Isa,
    (a, b): (Rows<'_, T>, Rows<'_, T>),
    (k, skip): (usize, usize),
    (scale, dot_bound): (f64, f64),
) -> f64 {
    let others: Vec<usize> = (0..b.len()).filter(|&j| j != skip).collect();
    let (row, others) = (a.gather(&[k]), b.gather(&others));
    let (row, others) = (Rows::new(&row, a.dim()), Rows::new(&others, b.dim()));
    cross_entropies(isa, row, others, scale, dot_bound).0[0].value()
}
