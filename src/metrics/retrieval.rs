use super::{at_least_one, paired};
use crate::{
    Modality, Result, Scalar, UnitEmbeddings,
    kernel::{Isa, Rows, epilogue::ranks, paired_dots},
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
/// assert_eq!((r1.image_to_text, r1.text_to_image), (1.0, 1.0));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: the retrieval evaluation of their fine-tuning
/// code (`Table_1_*/training/train_clip.py`, `evaluate_retrieval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// Image → text: the fraction of rows i of the first set whose pair bᵢ is among the K most
    /// similar samples of the second set (the peers' "Text R@K").
    pub image_to_text: f64,
    /// Text → image: the same from the second set into the first (the peers' "Image R@K").
    pub text_to_image: f64,
}

/// Recall@K of paired retrieval by cosine similarity, in both directions.
///
/// ```text
/// rankᵢ = #{ j : aᵢ·bⱼ > aᵢ·bᵢ } + #{ j > i : aᵢ·bⱼ = aᵢ·bᵢ }    (0: the pair is the best match)
/// R@K (image → text) = (1/n) #{ i : rankᵢ < K }
/// ```
///
/// and the same over columns for text → image. Ties are broken as the peers' stable `argsort`
/// breaks them: among equal similarities the sample with the larger index ranks higher. So
/// duplicate rows (collapsed embeddings) do not count as perfect retrieval, and the numbers
/// equal the peers' on every input. K = 1 gives top-1 accuracy.
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
/// assert_eq!(r1.image_to_text, 0.5); // a₁ finds b₀ first
/// assert_eq!(r1.text_to_image, 0.0); // b₀ finds a₁ first, b₁ finds a₀ first
/// assert_eq!(retrieval_recall(&a, &b, 2)?.image_to_text, 1.0);
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
    paired(a, b)?;
    at_least_one("k", k)?;
    let (rows, cols) = (Rows::of(a), Rows::of(b));
    let isa = Isa::detect();
    let targets = paired_dots(isa, rows, cols);
    let (row_ranks, col_ranks) = ranks(isa, rows, cols, &targets);
    let recall = |ranks: Vec<u64>| {
        ranks.iter().filter(|&&r| (r as usize) < k).count() as f64 / a.len() as f64
    };
    Ok(Recall {
        image_to_text: recall(row_ranks),
        text_to_image: recall(col_ranks),
    })
}
