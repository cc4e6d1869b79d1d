//! exp and expm1 together, in branch-free f64 code that compilers vectorise, at the Taylor
//! degree the data's precision needs.

/// ln 2 split so that k · LN2_HI is exact for |k| < 2²⁰ (LN2_HI has 32 trailing zero bits)
/// and LN2_HI + LN2_LO = ln 2 to 2⁻¹⁰⁶ (fdlibm's split).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 · 2⁵²: adding it rounds to an integer held in the low bits of the mantissa.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
/// Below this, exp(x) is below the smallest normal f64 and is returned as 0; [`reduced`] holds
/// from here up.
pub(crate) const UNDERFLOW: f64 = -708.0;
/// Above this, exp(x) is returned as +∞ (the true value overflows just past 709.78).
const OVERFLOW: f64 = 709.0;

/// 1/k! for k = 0, 1, …, 13: the Taylor coefficients of expm1.
const INVERSE_FACTORIALS: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// The Taylor degree that makes [`exp_expm1`] exact to 2 f64 ulps: the truncation error
/// |r|¹⁴/14! < 5e-18 for |r| ≤ ln 2 / 2.
pub(crate) const F64_DEGREE: usize = 13;

/// The Taylor degree that is enough for f32 data: the truncation error |r|⁸/8! < 5.3e-9
/// relative for |r| ≤ ln 2 / 2, a tenth of an f32 ulp (2⁻²⁴ ≈ 6e-8), so a pass over f32 dot
/// products (each already rounded to f32) loses nothing measurable to it, at a little over
/// half the multiply-adds of [`F64_DEGREE`].
pub(crate) const F32_DEGREE: usize = 7;

/// exp(x) = scale · (1 + p) and expm1(x) = scale · p + (scale − 1), as the pair (scale, p):
///
/// ```text
/// x = k·ln 2 + r,  |r| ≤ ln2 / 2,   scale = 2ᵏ,   p(r) = Σ_{j=1..degree} rʲ / j!
/// ```
///
/// `degree` ≤ 13 is a constant where this is inlined (the loop unrolls). For −708 ≤ x ≤ 709 only (the callers guarantee it, or clamp first: [`exp_expm1`]); no
/// branch, so a loop of it vectorises. Fused multiply-adds (`mul_add`, correctly rounded on
/// every target: one instruction with FMA, a library call without), so the result is bitwise
/// the same on every instruction set.
#[inline(always)]
pub(crate) fn reduced(x: f64, degree: usize) -> (f64, f64) {
    let shifted = x * std::f64::consts::LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let mut q = INVERSE_FACTORIALS[degree];
    for &c in INVERSE_FACTORIALS[1..degree].iter().rev() {
        q = q.mul_add(r, c);
    }
    let p = q * r;
    // 2ᵏ from the integer in the low bits of `shifted`: (k + 1023) << 52.
    let k_bits = shifted.to_bits().wrapping_sub(ROUNDER.to_bits());
    let scale = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    (scale, p)
}

/// exp(x) from [`reduced`]'s pair: scale · (1 + p), one rounding.
#[inline(always)]
pub(crate) fn exp_of((scale, p): (f64, f64)) -> f64 {
    scale.mul_add(p, scale)
}

/// expm1(x) from [`reduced`]'s pair: scale · p + (scale − 1), one rounding after the exact
/// scale − 1 (exactly p when k = 0, so small x keep all their digits).
#[inline(always)]
pub(crate) fn expm1_of((scale, p): (f64, f64)) -> f64 {
    scale.mul_add(p, scale - 1.0)
}

/// (exp(x), expm1(x)) within 2 ulps for −708 ≤ x ≤ 709 (measured against the standard
/// library in the tests); below −708 the pair is (0, −1), which is exp(x) to within
/// 3e-308 absolute, and above 709 it is (+∞, +∞), so an overflow is never silent.
/// [`reduced`] at [`F64_DEGREE`] with the range handled.
#[inline(always)]
pub(crate) fn exp_expm1(x: f64) -> (f64, f64) {
    let (below, above) = (x < UNDERFLOW, x > OVERFLOW);
    let pair = reduced(x.clamp(UNDERFLOW, OVERFLOW), F64_DEGREE);
    let (exp, expm1) = (exp_of(pair), expm1_of(pair));
    if below {
        (0.0, -1.0)
    } else if above {
        (f64::INFINITY, f64::INFINITY)
    } else {
        (exp, expm1)
    }
}

#[cfg(test)]
mod tests {
    use super::exp_expm1;

    fn ulps(actual: f64, expected: f64) -> f64 {
        (actual - expected).abs() / (expected.abs() * f64::EPSILON).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn agrees_with_the_standard_library_to_two_ulps() {
        let mut worst = (0.0f64, 0.0f64);
        for step in 0..=200_000 {
            let x = -708.0 + 717.0 * step as f64 / 200_000.0;
            let (e, em1) = exp_expm1(x);
            worst.0 = worst.0.max(ulps(e, x.exp()));
            worst.1 = worst.1.max(ulps(em1, x.exp_m1()));
        }
        assert!(worst.0 <= 2.0 && worst.1 <= 2.0, "worst ulps {worst:?}");
    }

    #[test]
    fn expm1_keeps_full_relative_precision_near_zero() {
        for x in [-1e-300, -1e-12, -3e-8, 1e-10, -0.3, 0.34] {
            let (_, em1) = exp_expm1(x);
            assert!(ulps(em1, x.exp_m1()) <= 2.0, "{x}: {em1} vs {}", x.exp_m1());
        }
        assert_eq!(exp_expm1(0.0), (1.0, 0.0));
    }

    #[test]
    fn underflow_gives_zero_and_minus_one_and_overflow_infinity() {
        assert_eq!(exp_expm1(-709.0), (0.0, -1.0));
        assert_eq!(exp_expm1(f64::NEG_INFINITY), (0.0, -1.0));
        assert!(exp_expm1(-707.9).0 > 0.0);
        assert_eq!(exp_expm1(709.5), (f64::INFINITY, f64::INFINITY));
        assert_eq!(exp_expm1(1e300), (f64::INFINITY, f64::INFINITY));
        assert!(exp_expm1(709.0).0.is_finite());
    }
}
