//! Σ exp(−t‖xᵢ − xⱼ‖²) over the pairs i < j of one set: the uniformity loss.

use crate::kernel::logsumexp::LogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Rows, Scratch, row_tasks, run};

/// Exponents that stay above −700 keep every exp a normal f64 (the smallest is e^(−708.4)).
const SAFE_EXPONENT: f64 = 700.0;

/// The Gaussian potential of each pair, from the Gram identity
/// ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ (clamped at 0) on the rows as the kernel sees them,
/// times `unscale` (the inverse square of their scale), gathered as a stable log-sum-exp:
/// shifted by 0 when no exponent can fall below −700, else by each row's maximum.
struct GaussianPotential<'a> {
    t: f64,
    unscale: f64,
    squared_norms: &'a [f64],
    zero_shift: bool,
}

impl<T: Element> Epilogue<T> for GaussianPotential<'_> {
    type Acc = LogSumExp;

    #[inline(always)]
    fn consume(&self, acc: &mut LogSumExp, block: &Block<'_, T>, scratch: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let [exponents, exps, excesses] = scratch.rows(dots.len());
            let ni = self.squared_norms[i];
            let nj = &self.squared_norms[first..][..dots.len()];
            let z = |k: usize| {
                let squared = (ni + nj[k]) - 2.0 * dots[k].to_f64();
                // (0, not 0·unscale: the unscale of rows of extreme spread is +∞.)
                -self.t
                    * if squared > 0.0 {
                        squared * self.unscale
                    } else {
                        0.0
                    }
            };
            let part = if self.zero_shift {
                LogSumExp::shifted(z, 0.0, exps, excesses)
            } else {
                for (k, e) in exponents.iter_mut().enumerate() {
                    *e = z(k);
                }
                LogSumExp::of(exponents, exps, excesses)
            };
            acc.merge(part);
        }
    }
}

/// The log-sum-exp of −t·‖xᵢ − xⱼ‖²·`unscale` over the pairs i < j of `x` (as the kernel sees
/// them), where `squared_norms[i]` is the kernel's own xᵢ·xᵢ (so identical rows are exactly 0
/// apart).
pub(crate) fn gaussian_potential<T: Element>(
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
    // ‖xᵢ − xⱼ‖² ≤ (‖xᵢ‖ + ‖xⱼ‖)² ≤ 4 max ‖x‖²: the largest any exponent's magnitude can be.
    let largest = squared_norms.iter().fold(0.0, |m: f64, &v| m.max(v));
    let epilogue = GaussianPotential {
        t,
        unscale,
        squared_norms,
        zero_shift: 4.0 * largest * unscale * t <= SAFE_EXPONENT,
    };
    let mut total = LogSumExp::EMPTY;
    for part in run(isa, &pairs, tasks, &epilogue) {
        total.merge(part);
    }
    total
}
