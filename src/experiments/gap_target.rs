//! Moving the modalities along their gap until the gap has a chosen size.

use super::{Shift, along, shift};
use crate::check;
use crate::{Gap, Modality, Result, Scalar, UnitEmbeddings, centroid, gap};

/// The gap distance [`shift_to_gap`] moves to.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::GapTarget;
///
/// let halfway = GapTarget::Fraction(0.5); // half the current ‖Δ‖
/// let closed = GapTarget::Distance(0.0);
/// assert_ne!(halfway, closed);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 and Table 1 (shifting the gap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GapTarget {
    /// A gap distance ‖Δ′‖ in [0, 2).
    Distance(f64),
    /// A multiple of the current gap distance: f·‖Δ‖ (0.5 halves the gap, 1.5 widens it).
    Fraction(f64),
}

/// Where [`shift_to_gap`] stopped: the shift δ and the gap distance it gives.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::GapShift;
///
/// let s = GapShift { delta: 0.9, gap_distance: 0.41 };
/// assert!(s.delta > 0.0); // a positive δ closes the gap
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapShift {
    /// The shift δ along the unit gap direction (see [`shift`]).
    pub delta: f64,
    /// ‖Δ′‖ after the shift.
    pub gap_distance: f64,
}

/// The shift δ along the unit gap direction g that gives the modalities a chosen gap distance.
///
/// ```text
/// find δ:  ‖gap(shift(a, b, g, δ, mode))‖ = target,   g = unit gap direction of (a, b)
/// ```
///
/// The distance is not linear in δ: δ moves the rows along g and the rows are then
/// renormalised, so equal steps of δ close less and less of the gap. The paper's λ
/// (x′ = x − λΔ, y′ = y + λΔ, i.e. δ = 2λ‖Δ‖, [`delta_from_lambda`]) at λ = ¼ leaves 54.0 %
/// of the gap of the 500 published CLIP pairs, not 50 %; half of it takes λ = 0.2695. This
/// function finds the δ for 50 % (or any size) directly.
///
/// The root is bracketed from δ = 0, doubling the step until the target is passed, then found
/// by the Illinois variant of regula falsi, which keeps the bracket, so it converges wherever
/// the distance is continuous. Along the closing side (δ > 0) the search stays where the
/// modalities have not yet passed each other (⟨Δ′, g⟩ > 0). On the widening side (δ < 0) the
/// distance tends to 2 with [`Shift::Both`] (images to +g, texts to −g) and to
/// ‖g − centroid(b)‖ with [`Shift::ImageOnly`] (only the images move, to +g): a target at or
/// beyond that limit is refused up front. For `f64` rows it stops when the distance is within 1e-12 of the
/// target (or the bracket is a few ulps wide); `f32` rows are rounded after each shift, so
/// the distance is a step function at the 1e-7 scale and the result is that close. Every
/// evaluation is one [`shift`] and one [`gap`]: O(n·d), some 20–60 of them.
///
/// # Errors
///
/// [`Error::ZeroGap`](crate::Error::ZeroGap) if the sets have no gap to move along,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `target` for a distance
/// outside [0, 2) or a negative or non-finite fraction, or for a distance that this shift
/// cannot reach (smaller than the gap left where the modalities pass each other, or at or
/// beyond the widening limit above); those of [`shift`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
/// use modality_gap::experiments::{GapTarget, Shift, shift, shift_to_gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.2, 0.1], [1.0, -0.2, 0.3]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.2, 1.0, 0.0], [-0.2, 1.0, 0.2]])?)?;
/// let before = gap(&img, &txt)?;
/// let half = shift_to_gap(&img, &txt, GapTarget::Fraction(0.5), Shift::Both)?;
/// assert!((half.gap_distance - 0.5 * before.distance()).abs() < 1e-12);
/// // The same δ through `shift` gives the same gap.
/// let (a, b) = shift(&img, &txt, &before.direction()?, half.delta, Shift::Both)?;
/// assert_eq!(gap(&a, &b)?.distance(), half.gap_distance);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (the shift, with λ) and Table 1.
pub fn shift_to_gap<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    target: GapTarget,
    mode: Shift,
) -> Result<GapShift> {
    let start = gap(a, b)?;
    let g = start.direction()?;
    let distance = start.distance();
    let target = match target {
        GapTarget::Distance(t) => check::below_two("target", t)?,
        GapTarget::Fraction(f) => {
            check::below_two("target", check::non_negative("target", f)? * distance)?
        }
    };
    // The gap after shifting by δ, with its component along g.
    let after = |delta: f64| -> Result<(f64, f64)> {
        let (a1, b1) = shift(a, b, &g, delta, mode)?;
        let moved = gap(&a1, &b1)?;
        Ok((moved.distance(), along(&moved, &g)))
    };
    if target == distance {
        return Ok(GapShift {
            delta: 0.0,
            gap_distance: distance,
        });
    }
    // Bracket: f(δ) = ‖Δ′(δ)‖ − target changes sign between `near` (δ = 0) and `far`.
    let closing = target < distance;
    if !closing && mode == Shift::ImageOnly {
        // Only the images move: as δ → −∞ they all tend to +g, the gap to g − centroid(b).
        let limit = g
            .iter()
            .zip(centroid(b))
            .map(|(w, c)| (w - c) * (w - c))
            .sum::<f64>()
            .sqrt();
        check::reachable("target", target, target < limit)?;
    }
    let step = if closing { 1.0 } else { -1.0 };
    let (mut near, mut f_near) = (0.0, distance - target);
    let (mut far, mut f_far);
    let mut reach = step;
    loop {
        let (d, along) = after(reach)?;
        if closing && along <= 0.0 {
            // The modalities passed each other: on the closing side the gap is smallest
            // where ⟨Δ′, g⟩ = 0, which `along` (decreasing in δ) brackets in [near, reach].
            let crossing = crossing(near, reach, |delta| after(delta).map(|(_, along)| along))?;
            let (d_crossing, _) = after(crossing)?;
            check::reachable("target", target, d_crossing <= target)?;
            (far, f_far) = (crossing, d_crossing - target);
            break;
        }
        if (d - target).signum() != f_near.signum() || d == target {
            (far, f_far) = (reach, d - target);
            break;
        }
        // Widening, the distance tends to its limit: 64 doublings reach δ = 2⁶⁴.
        check::reachable("target", target, reach.abs() < 1.8e19)?;
        (near, f_near) = (reach, d - target);
        reach *= 2.0;
    }
    // Illinois: regula falsi that halves the weight of an end kept twice, so both ends move.
    let mut best = (far, f_far);
    let mut kept_side = 0i8;
    for _ in 0..MAX_ITERATIONS {
        if best.1.abs() <= TOLERANCE * target.max(1.0)
            || (far - near).abs() <= 4.0 * f64::EPSILON * far.abs().max(near.abs())
        {
            break;
        }
        let delta = (near * f_far - far * f_near) / (f_far - f_near);
        let (d, _) = after(delta)?;
        let f = d - target;
        if f.abs() < best.1.abs() {
            best = (delta, f);
        }
        if f.signum() == f_far.signum() {
            (far, f_far) = (delta, f);
            if kept_side == -1 {
                f_near *= 0.5;
            }
            kept_side = -1;
        } else {
            (near, f_near) = (delta, f);
            if kept_side == 1 {
                f_far *= 0.5;
            }
            kept_side = 1;
        }
    }
    Ok(GapShift {
        delta: best.0,
        gap_distance: best.1 + target,
    })
}

/// The δ in (lo, hi] where `along(δ)`, positive at lo and not at hi, reaches 0, by bisection to
/// a few ulps.
fn crossing(mut lo: f64, mut hi: f64, along: impl Fn(f64) -> Result<f64>) -> Result<f64> {
    while (hi - lo).abs() > 4.0 * f64::EPSILON * hi.abs().max(lo.abs()) {
        let middle = 0.5 * (lo + hi);
        if middle == lo || middle == hi {
            break;
        }
        if along(middle)? > 0.0 {
            lo = middle;
        } else {
            hi = middle;
        }
    }
    Ok(hi)
}

/// The δ of [`shift`] for the paper's λ: x′ = x − λΔ, y′ = y + λΔ moves each modality by λ‖Δ‖
/// along the unit direction, i.e. δ = 2λ‖Δ‖ (before the rows are renormalised).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap, experiments::delta_from_lambda};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
/// let g = gap(&img, &txt)?; // ‖Δ‖ = √2
/// assert_eq!(delta_from_lambda(0.25, &g), 0.5 * 2f64.sqrt());
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (Eq. for the embedding shift).
pub fn delta_from_lambda(lambda: f64, gap: &Gap) -> f64 {
    2.0 * lambda * gap.distance()
}

/// Regula falsi stops when the distance is this close to the target (relative above 1).
const TOLERANCE: f64 = 1e-12;
/// A bound on the Illinois iterations (each an O(n·d) shift); they converge superlinearly,
/// in far fewer.
const MAX_ITERATIONS: usize = 200;
