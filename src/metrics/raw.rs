//! Alignment and uniformity on rows as they are, without the unit-norm invariant.
//!
//! Wang & Isola's `align_loss` and `uniform_loss` (`align_uniform/__init__.py`) do not
//! normalise: their encoders end in an L2-normalisation layer, and the functions trust it. Call
//! these when you mean exactly that computation on raw rows, e.g. to reproduce a number from
//! an unnormalised feature dump. Everywhere else prefer the hypersphere versions
//! ([`crate::align_loss`], [`crate::uniform_loss`]), which take
//! [`UnitEmbeddings`](crate::UnitEmbeddings) and so cannot be handed unnormalised data by
//! mistake. The formulas, conventions and errors are the same.

use super::{align, uniform};
use crate::{Embeddings, Modality, Result, Scalar};

/// L_align(α) = (1/n) Σᵢ ‖xᵢ − yᵢ‖₂^α on raw rows (see [`crate::align_loss`]).
///
/// # Errors
///
/// As [`crate::align_loss`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, raw};
///
/// let x = Embeddings::<f64, Image>::from_rows(&[[3.0, 4.0], [1.0, 0.0]])?;
/// let y = Embeddings::<f64, Text>::from_rows(&[[0.0, 0.0], [0.0, 1.0]])?;
/// // distances 5 and √2: (25 + 2) / 2
/// assert!((raw::align_loss(&x, &y, 2.0)? - 13.5).abs() < 1e-14);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Eq. (2); `align_uniform/__init__.py` lines 4–5.
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    x: &Embeddings<T, A>,
    y: &Embeddings<T, B>,
    alpha: f64,
) -> Result<f64> {
    align::align_loss_raw(x, y, alpha)
}

/// L_uniform(t) = log( mean_{i<j} exp(−t ‖xᵢ − xⱼ‖₂²) ) on raw rows (see
/// [`crate::uniform_loss`]). Stable where the literal code gives −∞.
///
/// # Errors
///
/// As [`crate::uniform_loss`].
///
/// # Precision
///
/// The squared distances come from the Gram identity on the rows centred at their mean, as in
/// [`crate::uniform_loss`]. torch.pdist forms the differences instead. The two agree where
/// the rows' distances from their mean are of the order of their distances from each other.
/// An outlier breaks that: the close pairs' distances are then differences of large norms,
/// and their digits are lost. The crate bounds that loss (t·5(d + 8)·u·maxᵢ ‖xᵢ − x̄‖², see
/// [`Error::Unresolved`](crate::Error::Unresolved)) and refuses the input when the bound
/// passes 1. For the rows (10⁸, 0), (0, 1), (1, 0) in `f64` at t = 1 (loss
/// log(e⁻²/3) ≈ −3.10), the bound is 24.7, and the pass would have given −3.35.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, raw};
///
/// // Nearest neighbours are 30√2 apart: every exp underflows, the literal code gives −∞,
/// // and the exact value is −2·1800 + log(4/6).
/// let x = Embeddings::<f64, Image>::from_rows(&[[30.0, 0.0], [0.0, 30.0], [-30.0, 0.0], [0.0, -30.0]])?;
/// let expected = -3600.0 + (4.0f64 / 6.0).ln();
/// assert!((raw::uniform_loss(&x, 2.0)? - expected).abs() < 1e-12);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Eq. (3); `align_uniform/__init__.py` lines 8–9.
pub fn uniform_loss<T: Scalar, M: Modality>(x: &Embeddings<T, M>, t: f64) -> Result<f64> {
    uniform::uniform_loss_raw(x, t)
}
