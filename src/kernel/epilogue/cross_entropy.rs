//! The row-wise and column-wise log-sum-exp of the logits s·aᵢ·bⱼ: both cross-entropies of
//! the contrastive loss from one pass.

use super::{RowsAndCols, rows_and_cols};
use crate::Scalar;
use crate::kernel::logsumexp::OnlineLogSumExp;
use crate::kernel::{Block, Epilogue, Isa, Rows, Scratch, exp_expm1, lanes};

/// Up to this logit scale s, one shift serves every row and column: with |aᵢ·bⱼ| ≤ 1 every
/// logit lies in [−s, s], so each exp(zᵢⱼ − s) ≥ e^(−2s) ≥ e^(−700) stays a normal f64 and one
/// exponential per pair feeds both sums.
const ONE_SHIFT_UP_TO: f64 = 350.0;

/// Online log-sum-exp of every row and every column of the logits, flash-attention style.
struct CrossEntropy {
    scale: f64,
}

type Acc = RowsAndCols<OnlineLogSumExp, OnlineLogSumExp>;

impl<T: Scalar> Epilogue<T> for CrossEntropy {
    type Acc = Acc;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc, block: &Block<'_, T>, scratch: &mut Scratch) {
        let (s, cols) = (self.scale, block.cols());
        let [z, exps, col_sums, col_max] = scratch.rows(cols.len());
        col_sums.fill(0.0);
        if s <= ONE_SHIFT_UP_TO {
            for i in block.rows() {
                for (e, &dot) in exps.iter_mut().zip(block.row(i).1) {
                    *e = exp_expm1(s * dot.to_f64() - s).0;
                }
                acc.row(i).add(s, lanes::sum(exps));
                for (c, &e) in col_sums.iter_mut().zip(&*exps) {
                    *c += e;
                }
            }
            for (c, &sum) in acc.cols[cols].iter_mut().zip(&*col_sums) {
                c.add(s, sum);
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

/// (log Σⱼ exp(s·aᵢ·bⱼ) for each row i, log Σᵢ exp(s·aᵢ·bⱼ) for each column j), for unit rows
/// (|aᵢ·bⱼ| ≤ 1) and a finite scale s > 0.
pub(crate) fn cross_entropies<T: Scalar>(
    isa: Isa,
    a: Rows<'_, T>,
    b: Rows<'_, T>,
    scale: f64,
) -> (Vec<OnlineLogSumExp>, Vec<OnlineLogSumExp>) {
    let empty = OnlineLogSumExp::EMPTY;
    let epilogue = CrossEntropy { scale };
    rows_and_cols(isa, (a, b), &epilogue, (empty, empty), |total, part| {
        total.merge(part)
    })
}
