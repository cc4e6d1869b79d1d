//! Sums and maxima of short f64 slices in eight interleaved lanes: the compiler vectorises
//! them, and the lanes combine in a fixed order, so the result is the same on every
//! instruction set and every run.

const LANES: usize = 8;

/// Σ values, in eight lanes combined as ((l₀+l₄) + (l₁+l₅)) + ((l₂+l₆) + (l₃+l₇)).
#[inline(always)]
pub(crate) fn sum(values: &[f64]) -> f64 {
    sum_of(values, |v| v)
}

/// Σ f(v) over the values, in the lanes and order of [`sum`]: `f` a branch-free map the
/// compiler vectorises with the sum.
#[inline(always)]
pub(crate) fn sum_of(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += f(v);
    }
    combine(acc)
}

/// The fixed order in which the lanes are added.
#[inline(always)]
fn combine(acc: [f64; LANES]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// min values; +∞ for none. The values must not be NaN.
#[inline(always)]
pub(crate) fn min(values: &[f64]) -> f64 {
    extreme(values, f64::INFINITY, |m, v| if v < m { v } else { m })
}

/// max values; −∞ for none. The values must not be NaN.
#[inline(always)]
pub(crate) fn max(values: &[f64]) -> f64 {
    extreme(values, f64::NEG_INFINITY, |m, v| if v > m { v } else { m })
}

/// The values folded by `pick` (a minimum or a maximum, exact in any order) in eight lanes.
#[inline(always)]
fn extreme(values: &[f64], identity: f64, pick: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = [identity; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = pick(*a, v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a = pick(*a, v);
    }
    acc.into_iter().fold(identity, pick)
}

#[cfg(test)]
mod tests {
    use super::{max, min, sum};

    #[test]
    fn sum_and_max_of_every_length() {
        for len in 0..40 {
            let v: Vec<f64> = (0..len).map(|k| (k * 7 % 11) as f64 - 3.0).collect();
            assert_eq!(sum(&v), v.iter().sum::<f64>(), "length {len}");
            assert_eq!(max(&v), v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            assert_eq!(min(&v), v.iter().copied().fold(f64::INFINITY, f64::min));
        }
    }
}
