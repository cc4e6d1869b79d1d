//! The row-wise and column-wise log-sum-exp of the logits s·aᵢ·bⱼ: both cross-entropies of
//! the contrastive loss from one pass.

use super::{RowsAndCols, rows_and_cols};
use crate::kernel::exp::{exp_expm1, exp_of, reduced};
use crate::kernel::logsumexp::OnlineLogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, Rows, Scratch, lanes};

/// Logits spread over at most this much share one shift: with |aᵢ·bⱼ| ≤ M every logit lies in
/// [−sM, sM], so while 2sM ≤ 700 each exp(zᵢⱼ − sM) ≥ e^(−700) stays a normal f64 and one
/// exponential per pair feeds both its row's and its column's sum.
const ONE_SHIFT_SPREAD: f64 = 700.0;

/// Online log-sum-exp of every row and every column of the logits, flash-attention style:
/// with one shift for every logit when `one_shift` is known to be safe, else each row and each
/// column shifted by its own maximum in every block (two exponentials per pair).
struct CrossEntropy {
    scale: f64,
    one_shift: Option<f64>,
}

type Acc = RowsAndCols<OnlineLogSumExp, OnlineLogSumExp>;

impl<T: Element> Epilogue<T> for CrossEntropy {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        debug_assert!(!block.is_within(), "the cross-entropies pair two sets");
        let (s, cols) = (self.scale, block.cols());
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
                acc.row(i).add(shift, lanes::sum(exps));
            }
            for (c, &sum) in acc.cols[cols].iter_mut().zip(&*col_sums) {
                c.add(shift, sum);
            }
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
                acc.row(i).add(row_max, lanes::sum(exps));
                for ((c, &z), &m) in col_sums.iter_mut().zip(&*z).zip(&*col_max) {
                    *c += exp_expm1(z - m).0;
                }
            }
            for ((c, &sum), &m) in acc.cols[cols].iter_mut().zip(&*col_sums).zip(&*col_max) {
                c.add(m, sum);
            }
        }
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
    let empty = OnlineLogSumExp::EMPTY;
    let largest = scale * dot_bound;
    let epilogue = CrossEntropy {
        scale,
        one_shift: (2.0 * largest <= ONE_SHIFT_SPREAD).then_some(largest),
    };
    rows_and_cols(isa, (a, b), &epilogue, (empty, empty), |total, part| {
        total.merge(part)
    })
}
