use nalgebra::DMatrix;

use crate::{
    Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, Sets},
};

/// The full n × m matrix of cosine similarities Sᵢⱼ = aᵢ·bⱼ.
///
/// ```text
/// S[(i, j)] = aᵢ·bⱼ ∈ [−1, 1] (up to rounding),   i < n (rows of a), j < m (rows of b)
/// ```
///
/// numpy's `a @ b.T` as an nalgebra matrix. A similarity, not a distance. Every metric of this
/// crate avoids this O(n·m) matrix; use it when you really want the matrix (to plot it, or to
/// feed another library). The dot products come from the pairwise kernel in the input
/// precision (for `f32`, f32 fused multiply-add chains, as sgemm), widened to f64. For one set
/// with itself pass it twice: the diagonal holds the rows' squared norms, 1 up to rounding.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, pairwise_cosine};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 1.0]])?)?;
/// let s = pairwise_cosine(&a, &b)?;
/// assert_eq!(s.shape(), (2, 1));
/// assert!((s[(0, 0)] - 0.5f64.sqrt()).abs() < 1e-15 && (s[(1, 0)] - 0.5f64.sqrt()).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 2a (the similarity matrix behind the
/// cone effect); Radford et al., ICML 2021 (the logits of CLIP are this matrix over τ).
pub fn pairwise_cosine<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<DMatrix<f64>> {
    check::comparable(a.shape(), b.shape())?;
    // bⱼ·aᵢ row-major (m rows of n) is S column-major: nalgebra's layout, with no transpose.
    // (The fused multiply-add chain of bⱼ·aᵢ is that of aᵢ·bⱼ, bit for bit.)
    let mut columns = vec![0.0; a.len() * b.len()];
    kernel::dot_matrix(Sets::new(b.as_slice(), a.as_slice(), a.dim()), &mut columns);
    Ok(DMatrix::from_vec(a.len(), b.len(), columns))
}
