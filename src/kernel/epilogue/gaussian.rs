//! Σ exp(−t‖xᵢ − yⱼ‖²) over the pairs i < j of one set (the uniformity loss), or over the
//! pairs i ≠ j of two paired sets (the cross-modal uniformity).

use crate::kernel::logsumexp::LogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Scratch, row_tasks, run};

/// Exponents that stay above −700 keep every exp a normal f64 (the smallest is e^(−708.4)).
const SAFE_EXPONENT: f64 = 700.0;

/// The Gaussian potential of each pair, from the Gram identity
/// ‖xᵢ − yⱼ‖² = ‖xᵢ‖² + ‖yⱼ‖² − 2 xᵢ·yⱼ (clamped at 0) on the rows as the kernel sees them,
/// times `unscale` (the inverse square of their scale), gathered as a stable log-sum-exp:
/// shifted by 0 when no exponent can fall below −700, else by each row's maximum. Between two
/// sets, the pair (i, i) is left out.
struct GaussianPotential<'a> {
    t: f64,
    unscale: f64,
    row_norms: &'a [f64],
    col_norms: &'a [f64],
    zero_shift: bool,
}

impl GaussianPotential<'_> {
    /// The terms of row i against the columns `first`, `first + 1`, … whose dot products are
    /// `dots`.
    #[inline(always)]
    fn terms<T: Element>(
        &self,
        i: usize,
        first: usize,
        dots: &[T],
        scratch: &mut Scratch,
    ) -> LogSumExp {
        let [exponents, exps, excesses] = scratch.rows(dots.len());
        let ni = self.row_norms[i];
        let nj = &self.col_norms[first..][..dots.len()];
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
        if self.zero_shift {
            LogSumExp::shifted(z, 0.0, exps, excesses)
        } else {
            for (k, e) in exponents.iter_mut().enumerate() {
                *e = z(k);
            }
            LogSumExp::of(exponents, exps, excesses)
        }
    }
}

impl<T: Element> Epilogue<T> for GaussianPotential<'_> {
    type Acc = LogSumExp;

    #[inline(always)]
    fn consume(&self, acc: &mut LogSumExp, block: &Block<'_, T>, scratch: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            // Within one set row i sees only j > i; between two, the pair (i, i) is skipped.
            if !block.is_within() && (first..first + dots.len()).contains(&i) {
                let k = i - first;
                acc.merge(self.terms(i, first, &dots[..k], scratch));
                acc.merge(self.terms(i, i + 1, &dots[k + 1..], scratch));
            } else {
                acc.merge(self.terms(i, first, dots, scratch));
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
    (row_norms, col_norms): (&[f64], &[f64]),
) -> LogSumExp {
    debug_assert!(matches!(pairs, Pairs::Within(_)) || row_norms.len() == col_norms.len());
    let tasks = row_tasks(&pairs, None)
        .into_iter()
        .map(|rows| (rows, LogSumExp::EMPTY))
        .collect();
    // ‖xᵢ − yⱼ‖² ≤ (‖xᵢ‖ + ‖yⱼ‖)² ≤ 2 (max ‖x‖² + max ‖y‖²): the largest any exponent's
    // magnitude can be (4 max ‖x‖², exactly, within one set).
    let largest = |norms: &[f64]| norms.iter().fold(0.0, |m: f64, &v| m.max(v));
    let epilogue = GaussianPotential {
        t,
        unscale,
        row_norms,
        col_norms,
        zero_shift: 2.0 * (largest(row_norms) + largest(col_norms)) * unscale * t <= SAFE_EXPONENT,
    };
    let mut total = LogSumExp::EMPTY;
    for part in run(isa, &pairs, tasks, &epilogue) {
        total.merge(part);
    }
    total
}
