use crate::check;
use crate::{Embeddings, Gap, Modality, Result, Scalar, UnitEmbeddings};

/// Which embeddings the embedding-shift experiment moves. See [`shift`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::Shift;
///
/// assert_ne!(Shift::Both, Shift::ImageOnly);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (both) and the FairFace experiment of
/// Sec. 5.2 (image only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shift {
    /// Images by −δ/2·g and texts by +δ/2·g (Fig. 3, Table 1).
    Both,
    /// Images by −δ·g, texts unchanged (Table 2, FairFace).
    ImageOnly,
}

/// Moves two sets of unit embeddings along a direction g and renormalises them.
///
/// ```text
/// Both:       a′ᵢ = (aᵢ − δ/2·g) / ‖aᵢ − δ/2·g‖,   b′ⱼ = (bⱼ + δ/2·g) / ‖bⱼ + δ/2·g‖
/// ImageOnly:  a′ᵢ = (aᵢ − δ·g) / ‖aᵢ − δ·g‖,       b′ⱼ = bⱼ
/// ```
///
/// With g the unit gap direction ([`Gap::direction`](crate::Gap::direction)), δ > 0 closes the
/// gap and δ < 0 widens it. The paper writes the same shift as x′ = x − λΔ, y′ = y + λΔ with
/// the gap vector Δ itself (not unit): that is δ = 2λ‖Δ‖ ([`delta_from_lambda`](super::delta_from_lambda)).
/// The gap after the shift is not linear in δ (the rows are renormalised): on the published
/// CLIP pairs λ = ¼ leaves 54 % of the gap, and half the gap takes λ = 0.2695 (δ = 0.4588);
/// [`shift_to_gap`](super::shift_to_gap) finds the δ for a target gap. The reference's sweeps use
/// δ ∈ {−5, −4.75, …, 4.75}. The shift and the norms are computed in f64 and the result
/// rounded to `T`.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if the sets or the direction differ in dimension,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a non-finite δ or direction, [`Error::ZeroNorm`](crate::Error::ZeroNorm) if a
/// shifted row is exactly zero.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::{Shift, shift}, gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.2], [1.0, -0.2]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.2, 1.0], [-0.2, 1.0]])?)?;
/// let g = gap(&img, &txt)?.direction()?;
/// let (img2, txt2) = shift(&img, &txt, &g, 0.5, Shift::Both)?;
/// assert!(gap(&img2, &txt2)?.distance() < gap(&img, &txt)?.distance()); // δ > 0 closes it
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (the embedding shift experiment);
/// `plot_optimization_exp.ipynb` cell 6 and `Table_1_*/training/train_clip.py` lines 84–89.
pub fn shift<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    direction: &[f64],
    delta: f64,
    mode: Shift,
) -> Result<(UnitEmbeddings<T, A>, UnitEmbeddings<T, B>)> {
    check::comparable(a.shape(), b.shape())?;
    check::same_dim(a.dim(), direction.len())?;
    check::finite_vector("direction", direction)?;
    check::finite("delta", delta)?;
    Ok(match mode {
        Shift::Both => (
            moved(a, direction, -0.5 * delta)?,
            moved(b, direction, 0.5 * delta)?,
        ),
        Shift::ImageOnly => (moved(a, direction, -delta)?, b.clone()),
    })
}

/// (xᵢ + step·g) / ‖xᵢ + step·g‖ for every row.
fn moved<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    direction: &[f64],
    step: f64,
) -> Result<UnitEmbeddings<T, M>> {
    let values = x
        .rows()
        .flat_map(|row| {
            row.iter()
                .zip(direction)
                .map(|(v, g)| T::from_f64(v.to_f64() + step * g))
        })
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(x.len(), x.dim(), values)?)
}

/// ⟨Δ, g⟩: the component of a gap along a direction (negative once the modalities have
/// passed each other along it).
pub(super) fn along(gap: &Gap, direction: &[f64]) -> f64 {
    gap.vector().iter().zip(direction).map(|(v, g)| v * g).sum()
}

/// Shifts `a` and `b` by each δ of `deltas` along `direction` and measures the moved pair with
/// `measure(δ, a′, b′)`: the one loop behind both sweeps. Lazy: each δ is shifted and measured
/// when the iterator reaches it.
pub(super) fn along_gap<'a, T: Scalar, A: Modality, B: Modality, P>(
    a: &'a UnitEmbeddings<T, A>,
    b: &'a UnitEmbeddings<T, B>,
    direction: Vec<f64>,
    deltas: &'a [f64],
    mode: Shift,
    measure: impl Fn(f64, &UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>) -> Result<P> + 'a,
) -> impl Iterator<Item = Result<P>> + 'a {
    deltas.iter().map(move |&delta| {
        let (a1, b1) = shift(a, b, &direction, delta, mode)?;
        measure(delta, &a1, &b1)
    })
}
