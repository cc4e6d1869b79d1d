//! Σ exp(−t‖xᵢ − yⱼ‖²) over the pairs i < j of one set (the uniformity loss), or over the
//! pairs i ≠ j of two paired sets (the cross-modal uniformity).

use crate::kernel::exp::{exp_of, expm1_of, reduced};
use crate::kernel::lanes;
use crate::kernel::logsumexp::LogSumExp;
use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Scratch, row_tasks, run};

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
}

impl GaussianPotential<'_> {
    /// (Σ exp(z), Σ expm1(z)) over the terms z = c·(nᵢ + nⱼ − 2 dⱼ)₊ of a row whose squared
    /// norm is `ni`, against columns of squared norms `nj` and dot products `dots`, every z in
    /// [−700, 0]. A map into `exps` and `excesses` (scratch as long as `dots`) that compilers
    /// vectorise, then two sums in eight lanes.
    #[inline(always)]
    fn zero_shift_sums<T: Element>(
        c: f64,
        ni: f64,
        nj: &[f64],
        dots: &[T],
        scratch: &mut Scratch,
    ) -> (f64, f64) {
        let [exps, excesses] = scratch.rows(dots.len());
        for (((e, x), &nj), &dot) in exps.iter_mut().zip(&mut *excesses).zip(nj).zip(dots) {
            let squared = (ni + nj) - 2.0 * dot.to_f64();
            let pair = reduced(c * if squared > 0.0 { squared } else { 0.0 }, T::EXP_DEGREE);
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
}

impl<T: Element> Epilogue<T> for GaussianPotential<'_> {
    type Acc = LogSumExp;

    #[inline(always)]
    fn consume(&self, acc: &mut LogSumExp, block: &Block<'_, T>, scratch: &mut Scratch) {
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
        if let Some(c) = self.zero_shift {
            let (mut exp, mut expm1, mut count) = (0.0, 0.0, 0);
            for i in block.rows() {
                for (first, dots) in parts(i).into_iter().filter(|(_, d)| !d.is_empty()) {
                    let nj = &self.col_norms[first..][..dots.len()];
                    let (e, m) = Self::zero_shift_sums(c, self.row_norms[i], nj, dots, scratch);
                    (exp, expm1, count) = (exp + e, expm1 + m, count + dots.len() as u64);
                }
            }
            acc.merge(LogSumExp::new(0.0, exp, expm1, count));
        } else {
            for i in block.rows() {
                for (first, dots) in parts(i) {
                    acc.merge(self.shifted_terms(i, first, dots, scratch));
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
    let bound = 2.0 * (largest(row_norms) + largest(col_norms)) * unscale * t;
    let epilogue = GaussianPotential {
        t,
        unscale,
        row_norms,
        col_norms,
        zero_shift: (bound <= SAFE_EXPONENT).then_some(-t * unscale),
    };
    let mut total = LogSumExp::EMPTY;
    for part in run(isa, &pairs, tasks, &epilogue) {
        total.merge(part);
    }
    total
}
