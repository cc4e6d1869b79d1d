use super::{Shift, ValidationLoss, along, along_gap, validation_loss};
use crate::{Modality, Result, Scalar, Temperature, UnitEmbeddings, gap};

/// One δ of [`shift_sweep`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::ShiftPoint;
///
/// let p = ShiftPoint { delta: 0.0, gap_distance: 0.8, signed_gap_distance: 0.8, loss: 2.3 };
/// assert_eq!(p.gap_distance, p.signed_gap_distance.abs());
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3b–d.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftPoint {
    /// The shift δ.
    pub delta: f64,
    /// ‖Δ′‖, the gap distance after the shift.
    pub gap_distance: f64,
    /// ‖Δ′‖ · sign⟨g₀, Δ′⟩, with g₀ the direction of the unshifted gap: negative once the
    /// shift carries the modalities past each other.
    pub signed_gap_distance: f64,
    /// The validation loss after the shift.
    pub loss: f64,
}

/// The embedding-shift experiment (Fig. 3b–d): the loss landscape as the modalities are
/// moved along their own gap.
///
/// ```text
/// g₀ = unit gap direction of (a, b)
/// for each δ:  (a′, b′) = shift(a, b, g₀, δ, mode);  record ‖Δ′‖, ±‖Δ′‖, validation_loss(a′, b′, τ)
/// ```
///
/// Returns an iterator: each point is computed when the caller asks for it (progress, early
/// stop, parallel points are the caller's); the library never prints. The paper sweeps
/// δ ∈ {−5, −4.75, …, 4.75} at temperatures 1/100, 1/50, 1/30, 1/20, 1/10 and 1, with the
/// batched loss; [`ValidationLoss::BatchedImageToText`] reproduces its plotted numbers.
///
/// # Errors
///
/// Up front: [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::ZeroGap`](crate::Error::ZeroGap). Per point: the errors of [`shift`](super::shift) and
/// [`validation_loss`].
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings};
/// use modality_gap::experiments::{Shift, ValidationLoss, shift_sweep};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1, 1.0], [0.1, 1.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])?)?;
/// let points: Vec<_> = shift_sweep(&a, &b, &[-0.5, 0.0, 0.5], Temperature::new(0.1)?, Shift::Both, ValidationLoss::Full)?
///     .collect::<Result<_, _>>()?;
/// assert!(points[0].gap_distance > points[1].gap_distance && points[1].gap_distance > points[2].gap_distance);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 and Fig. 3b–d;
/// `plot_optimization_exp.ipynb` cell 6, `get_gap_stats.ipynb` cell 4 (the signed distance).
pub fn shift_sweep<'a, T: Scalar, A: Modality, B: Modality>(
    a: &'a UnitEmbeddings<T, A>,
    b: &'a UnitEmbeddings<T, B>,
    deltas: &'a [f64],
    temperature: Temperature,
    mode: Shift,
    loss: ValidationLoss,
) -> Result<impl Iterator<Item = Result<ShiftPoint>> + 'a> {
    let direction = gap(a, b)?.direction()?;
    let g0 = direction.clone();
    Ok(along_gap(
        a,
        b,
        direction,
        deltas,
        mode,
        move |delta, a1, b1| {
            let moved = gap(a1, b1)?;
            Ok(ShiftPoint {
                delta,
                gap_distance: moved.distance(),
                signed_gap_distance: moved.distance().copysign(along(&moved, &g0)),
                loss: validation_loss(a1, b1, temperature, loss)?,
            })
        },
    ))
}
