use crate::{
    Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, Sets},
};

/// Recall@K of cross-modal retrieval in both directions. Obtain it with [`retrieval_recall`].
///
/// ```text
/// R@K = (1/n) #{ i : rankᵢ < K }    (rankᵢ = 0: sample i's pair is its best match)
/// ```
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_recall};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let r1 = retrieval_recall(&a, &b, 1)?; // every pair is its own best match
/// assert_eq!((r1.a_to_b, r1.b_to_a), (1.0, 1.0));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: the retrieval evaluation of their fine-tuning
/// code (`Table_1_*/training/train_clip.py`, `evaluate_retrieval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// `a` → `b` (image → text when `a` holds the images): the fraction of rows i of `a`
    /// whose pair bᵢ is among the K samples of `b` most similar to aᵢ ("Text R@K" in the
    /// reference's printout).
    pub a_to_b: f64,
    /// `b` → `a` (text → image): the same from `b` into `a` ("Image R@K").
    pub b_to_a: f64,
}

/// Recall@K of paired retrieval by cosine similarity, in both directions.
///
/// ```text
/// rankᵢ = #{ j : aᵢ·bⱼ > aᵢ·bᵢ } + #{ j > i : aᵢ·bⱼ = aᵢ·bᵢ }    (0: the pair is the best match)
/// R@K (a → b) = (1/n) #{ i : rankᵢ < K }
/// ```
///
/// and the same over columns for b → a. Ties are broken as the reference's stable `argsort`
/// breaks them: among equal similarities the sample with the larger index ranks higher. So
/// duplicate rows (collapsed embeddings) do not count as perfect retrieval, and the numbers
/// equal the reference's on every input. K = 1 gives top-1 accuracy.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for K = 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_recall};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1], [1.0, 0.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let r1 = retrieval_recall(&a, &b, 1)?;
/// assert_eq!(r1.a_to_b, 0.5); // a₁ finds b₀ first
/// assert_eq!(r1.b_to_a, 0.0); // b₀ finds a₁ first, b₁ finds a₀ first
/// assert_eq!(retrieval_recall(&a, &b, 2)?.a_to_b, 1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: the retrieval evaluation of their fine-tuning
/// code (`Table_1_*/training/train_clip.py`, `evaluate_retrieval`).
pub fn retrieval_recall<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    k: usize,
) -> Result<Recall> {
    check::paired(a.shape(), b.shape())?;
    check::at_least_one("k", k)?;
    let (row_ranks, col_ranks) = kernel::ranks(Sets::new(a.as_slice(), b.as_slice(), a.dim()));
    let recall = |ranks: Vec<u64>| {
        ranks.iter().filter(|&&r| (r as usize) < k).count() as f64 / a.len() as f64
    };
    Ok(Recall {
        a_to_b: recall(row_ranks),
        b_to_a: recall(col_ranks),
    })
}
