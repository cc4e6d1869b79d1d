//! Σ exp(−t‖xᵢ − xⱼ‖²) over the pairs i < j of one set: the uniformity loss.

use super::MAX_BLOCK_COLS;
use crate::Scalar;
use crate::kernel::logsumexp::LogSumExp;
use crate::kernel::{Block, Epilogue, Isa, Pairs, Rows, row_tasks, run};

/// The Gaussian potential of each pair, from the Gram identity
/// ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ (clamped at 0) on the rows as the kernel sees them,
/// times `unscale` (the inverse square of their scale), gathered as a stable log-sum-exp.
struct GaussianPotential<'a> {
    t: f64,
    unscale: f64,
    squared_norms: &'a [f64],
}

impl<T: Scalar> Epilogue<T> for GaussianPotential<'_> {
    type Acc = LogSumExp;

    #[inline(always)]
    fn consume(&self, acc: &mut LogSumExp, block: &Block<'_, T>) {
        let mut z = [0.0; MAX_BLOCK_COLS];
        let (mut exps, mut excesses) = ([0.0; MAX_BLOCK_COLS], [0.0; MAX_BLOCK_COLS]);
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let (z, ni) = (&mut z[..dots.len()], self.squared_norms[i]);
            let nj = &self.squared_norms[first..][..dots.len()];
            for ((z, &dot), &nj) in z.iter_mut().zip(dots).zip(nj) {
                let squared = (ni + nj) - 2.0 * dot.to_f64();
                *z = -self.t * (if squared > 0.0 { squared } else { 0.0 } * self.unscale);
            }
            *acc = acc.merge(LogSumExp::of(z, &mut exps, &mut excesses));
        }
    }
}

/// The log-sum-exp of −t·‖xᵢ − xⱼ‖²·`unscale` over the pairs i < j of `x` (as the kernel sees
/// them), where `squared_norms[i]` is the kernel's own xᵢ·xᵢ (so identical rows are exactly 0
/// apart).
pub(crate) fn gaussian_potential<T: Scalar>(
    isa: Isa,
    x: Rows<'_, T>,
    (t, unscale): (f64, f64),
    squared_norms: &[f64],
) -> LogSumExp {
    let pairs = Pairs::Within(x);
    let tasks = row_tasks(&pairs, None)
        .into_iter()
        .map(|rows| (rows, LogSumExp::EMPTY))
        .collect();
    let epilogue = GaussianPotential {
        t,
        unscale,
        squared_norms,
    };
    run(isa, &pairs, tasks, &epilogue)
        .into_iter()
        .fold(LogSumExp::EMPTY, LogSumExp::merge)
}
