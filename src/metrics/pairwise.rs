use super::same_dim;
use crate::{
    Error, Modality, Result, Scalar, UnitEmbeddings,
    kernel::{Isa, Rows, epilogue::dot_matrix},
};

/// The full matrix of cosine similarities Sᵢⱼ = aᵢ·bⱼ, written into a buffer you provide.
///
/// ```text
/// out[i·m + j] = aᵢ·bⱼ ∈ [−1, 1] (up to rounding),   i < n (rows of a), j < m (rows of b)
/// ```
///
/// Row-major n × m, as numpy's `a @ b.T`. A similarity, not a distance. Every metric of this
/// crate avoids this O(n·m) matrix; use it when you really want the matrix (to plot it, or to
/// feed another library). The dot products come from the pairwise kernel in the input
/// precision (for `f32`, f32 fused multiply-add chains, as sgemm), widened to f64. For one set
/// with itself pass it twice: the diagonal holds the rows' squared norms, 1 up to rounding.
///
/// # Errors
///
/// [`Error::DimensionMismatch`], [`Error::OutputLength`] unless `out.len() == n · m`.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, pairwise_cosine};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 1.0]])?)?;
/// let mut s = vec![0.0; 2];
/// pairwise_cosine(&a, &b, &mut s)?;
/// assert!((s[0] - 0.5f64.sqrt()).abs() < 1e-15 && (s[1] - 0.5f64.sqrt()).abs() < 1e-15);
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
    out: &mut [f64],
) -> Result<()> {
    same_dim(a, b)?;
    let expected = a.len().saturating_mul(b.len());
    if out.len() != expected {
        return Err(Error::OutputLength {
            expected,
            found: out.len(),
        });
    }
    let (rows, cols) = (Rows::of(a), Rows::of(b));
    dot_matrix(Isa::detect(), rows, cols, out);
    Ok(())
}
