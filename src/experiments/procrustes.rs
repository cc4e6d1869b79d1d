use nalgebra::{DMatrix, SVD};

use crate::check;
use crate::gram::{apply_to_rows, cross_products};
use crate::{Embeddings, Modality, Result, Scalar, UnitEmbeddings};

/// The orthogonal map that best aligns paired texts with their images (the paper's gap
/// amendment), found by [`procrustes`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::procrustes};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [-1.0, 0.0]])?)?;
/// let fit = procrustes(&img, &txt)?; // the texts are the images turned by 90°
/// assert!((fit.rotate(&txt)?.row(0)[0] - 1.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1 (simulation: the gap amended at
/// initialisation); `Table_1_*/training/utils.py` lines 222–227.
#[derive(Debug, Clone, PartialEq)]
pub struct Procrustes {
    /// W, d × d orthogonal.
    rotation: DMatrix<f64>,
}

impl Procrustes {
    /// The d × d orthogonal matrix W; a text bⱼ maps to W bⱼ (row form: B Wᵀ).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::procrustes};
    ///
    /// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let w = procrustes(&img, &txt)?.rotation().clone();
    /// assert!((w - nalgebra::DMatrix::<f64>::identity(2, 2)).amax() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn rotation(&self) -> &DMatrix<f64> {
        &self.rotation
    }

    /// Rotates a set of texts by W and renormalises every row.
    ///
    /// ```text
    /// b′ⱼ = W bⱼ / ‖W bⱼ‖
    /// ```
    ///
    /// W is orthogonal, so ‖W bⱼ‖ = 1 up to rounding; the renormalisation only removes that
    /// rounding (the reference's gap computation renormalises too). The set need not be the one W
    /// was fitted on. Products accumulate in f64 (one gemm per block of rows, in parallel),
    /// are rounded to `T` and renormalised, as [`shift`](super::shift) does.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if the texts' dimension is not W's.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::procrustes, gap};
    ///
    /// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.2], [1.0, -0.2]])?)?;
    /// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.2, 1.0], [-0.2, 1.0]])?)?;
    /// let aligned = procrustes(&img, &txt)?.rotate(&txt)?;
    /// assert!(gap(&img, &aligned)?.distance() < 1e-12); // a reflection pairs them exactly
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1; `Table_1_*/training/utils.py`
    /// line 227 (`text_features @ w.T`).
    pub fn rotate<T: Scalar, B: Modality>(
        &self,
        texts: &UnitEmbeddings<T, B>,
    ) -> Result<UnitEmbeddings<T, B>> {
        let d = self.rotation.nrows();
        check::same_dim(d, texts.dim())?;
        let rotated = apply_to_rows(texts.as_slice(), &vec![0.0; d], &self.rotation);
        UnitEmbeddings::normalize(Embeddings::from_row_major_vec(texts.len(), d, rotated)?)
    }
}

/// The orthogonal Procrustes solution: the rotation (or reflection) of the texts that brings
/// them closest to their paired images.
///
/// ```text
/// W = argmin_{W ∈ O(d)} ‖A − B Wᵀ‖_F = U Vᵀ,   where  M = Aᵀ B = Σᵢ aᵢ bᵢᵀ = U Σ Vᵀ
/// ```
///
/// Rows aᵢ (images) and bᵢ (texts) are paired by index. M is accumulated in f64 in O(n·d²)
/// (gemm on blocks of rows, rayon over a fixed split of the rows, so the result does not
/// depend on the number of threads); nothing n × n is formed. W, the orthogonal polar factor
/// of M, comes from the scaled Newton iteration Xₖ₊₁ = (ζXₖ + Xₖ⁻ᵀ/ζ)/2 from X₀ = M, about ten
/// O(d³) inversions, accurate to a few ε·κ(M) (nalgebra's SVD alone can leave U Vᵀ off by
/// 1e-12 when two singular values are close).
///
/// W is unique when M has full rank d, which needs n ≥ d and generic data. Otherwise (n < d,
/// or degenerate data; here: a Frobenius condition number above 1e8) every orthogonal W that
/// agrees with U Vᵀ on the range of M is a minimiser, and this returns U Vᵀ from the SVD,
/// whose completion of the null spaces is arbitrary outside the span of the data: still
/// orthogonal, still a minimiser. A gap after alignment therefore means most when n ≥ d.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch), [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless the sets are paired row by
/// row. (Empty sets cannot reach here: [`Embeddings`] has n ≥ 1.)
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::procrustes};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.6, 0.8]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [-0.8, 0.6]])?)?;
/// let w = procrustes(&img, &txt)?;
/// // The texts are the images turned by +90°, so W turns them back by −90°.
/// assert!((w.rotation()[(0, 1)] - 1.0).abs() < 1e-15 && (w.rotation()[(1, 0)] + 1.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1 (the gap amended at initialisation:
/// W = argmin ‖X − Y W‖); `Table_1_*/training/utils.py` lines 222–227
/// (`train_clip_toy_fix_init`) in Weixin-Liang/Modality-Gap.
pub fn procrustes<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    texts: &UnitEmbeddings<T, B>,
) -> Result<Procrustes> {
    check::paired(images.shape(), texts.shape())?;
    let d = images.dim();
    let m = cross_products(images.as_slice(), texts.as_slice(), d, &vec![0.0; d]);
    let rotation = newton_polar(&m).unwrap_or_else(|| svd_polar(m));
    Ok(Procrustes { rotation })
}

/// Frobenius condition numbers ‖M‖_F‖M⁻¹‖_F above which [`newton_polar`] leaves M to the
/// SVD: there M is (numerically) rank-deficient and its polar factor is not unique.
const NEWTON_MAX_CONDITION: f64 = 1e8;

/// The orthogonal polar factor of a well-conditioned M by the scaled Newton iteration
/// (Higham, "Computing the polar decomposition", 1986):
///
/// ```text
/// X₀ = M,   Xₖ₊₁ = (ζₖ Xₖ + Xₖ⁻ᵀ/ζₖ) / 2,   ζₖ = √(‖Xₖ⁻¹‖_F / ‖Xₖ‖_F) while far, then 1
/// ```
///
/// It converges quadratically to U Vᵀ and is accurate to a few ε·κ(M), where nalgebra's SVD
/// leaves U Vᵀ off by up to 1e-11 when two singular values are close (measured: 2.5e-12 at
/// singular values 4.116 and 4.060). `None` if M is singular or too ill-conditioned, or
/// fails to converge.
fn newton_polar(m: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let settled = 1e-8 * (m.nrows() as f64).sqrt(); // ‖Xₖ₊₁ − Xₖ‖_F: quadratic from here
    let mut x = m.clone();
    let mut scaled = true;
    for step in 0..100 {
        let inverse = x.clone().try_inverse()?;
        let (norm, inverse_norm) = (x.norm(), inverse.norm());
        let condition = norm * inverse_norm;
        if step == 0 && (condition.is_nan() || condition > NEWTON_MAX_CONDITION) {
            return None;
        }
        let zeta = if scaled {
            (inverse_norm / norm).sqrt()
        } else {
            1.0
        };
        let next = (&x * zeta + inverse.transpose() / zeta) * 0.5;
        let change = (&next - &x).norm();
        x = next;
        if !scaled && change <= settled {
            return Some(x); // the error before this step was ~change; after it, ~change²
        }
        scaled = change > 1e-2;
    }
    None
}

/// The polar factor U Vᵀ from the SVD M = U Σ Vᵀ: for the rank-deficient M that
/// [`newton_polar`] declines, any completion of the null spaces is a minimiser.
fn svd_polar(m: DMatrix<f64>) -> DMatrix<f64> {
    let svd = SVD::new(m, true, true);
    match (svd.u, svd.v_t) {
        (Some(u), Some(v_t)) => u * v_t,
        _ => unreachable!("SVD::new was asked for U and Vᵀ"),
    }
}
