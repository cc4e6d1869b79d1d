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
/// assert_eq!(r1.to_string(), "image→text 1.0000, text→image 1.0000");
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
    /// The modalities of `a` and `b` ([`Modality::NAME`]), which `Display` names the
    /// directions with.
    pub modalities: (&'static str, &'static str),
}

impl std::fmt::Display for Recall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b) = self.modalities;
        write!(f, "{a}→{b} {:.4}, {b}→{a} {:.4}", self.a_to_b, self.b_to_a)
    }
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
    retrieval_ranks(a, b)?.recall(k)
}

/// The rank of every pair in both directions, from one pass: Recall@K for any number of K
/// without another pass ([`RetrievalRanks::recall`]). Obtain it with [`retrieval_ranks`].
///
/// ```text
/// a_to_b[i] = rank of bᵢ among the samples of b by similarity to aᵢ   (0: the best match)
/// b_to_a[j] = rank of aⱼ among the samples of a by similarity to bⱼ
/// ```
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1], [1.0, 0.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let ranks = retrieval_ranks(&a, &b)?;
/// assert_eq!((ranks.a_to_b(), ranks.b_to_a()), (&[0, 1][..], &[1, 1][..]));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: the retrieval evaluation of their fine-tuning
/// code (`Table_1_*/training/train_clip.py`, `evaluate_retrieval`, Weixin-Liang/Modality-Gap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievalRanks {
    a_to_b: Vec<u64>,
    b_to_a: Vec<u64>,
    modalities: (&'static str, &'static str),
}

impl RetrievalRanks {
    /// The ranks of both directions, and the modalities' names.
    pub(super) fn new(
        a_to_b: Vec<u64>,
        b_to_a: Vec<u64>,
        modalities: (&'static str, &'static str),
    ) -> Self {
        Self {
            a_to_b,
            b_to_a,
            modalities,
        }
    }

    /// The rank of bᵢ for each query aᵢ (0: its pair is its best match).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks};
    ///
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
    /// assert_eq!(retrieval_ranks(&a, &b)?.a_to_b(), &[1, 1]); // every pair second
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn a_to_b(&self) -> &[u64] {
        &self.a_to_b
    }

    /// The rank of aⱼ for each query bⱼ.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks};
    ///
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// assert_eq!(retrieval_ranks(&a, &a.clone().with_modality::<Text>())?.b_to_a(), &[0, 0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn b_to_a(&self) -> &[u64] {
        &self.b_to_a
    }

    /// Recall@K in both directions: the fraction of ranks below K.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for K = 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks};
    ///
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1], [1.0, 0.0]])?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let ranks = retrieval_ranks(&a, &b)?; // one pass, then any K
    /// let (r1, r2) = (ranks.recall(1)?, ranks.recall(2)?);
    /// assert_eq!((r1.a_to_b, r2.a_to_b, r2.b_to_a), (0.5, 1.0, 1.0));
    /// assert!(ranks.recall(0).is_err());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn recall(&self, k: usize) -> Result<Recall> {
        let k = check::at_least_one("k", k)?;
        let fraction = |ranks: &[u64]| {
            ranks.iter().filter(|&&r| r < k as u64).count() as f64 / ranks.len() as f64
        };
        Ok(Recall {
            a_to_b: fraction(&self.a_to_b),
            b_to_a: fraction(&self.b_to_a),
            modalities: self.modalities,
        })
    }
}

/// The rank of every pair's similarity among its row's and its column's, in one pass of the
/// pairwise kernel: [`RetrievalRanks`], from which Recall@K for every K follows.
///
/// Ties rank as in [`retrieval_recall`]. O(n²·d) time, O(n) memory.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks, retrieval_recall};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1], [1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])?)?;
/// let ranks = retrieval_ranks(&a, &b)?;
/// for k in [1, 2, 3] {
///     assert_eq!(ranks.recall(k)?, retrieval_recall(&a, &b, k)?);
/// }
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: `evaluate_retrieval` in
/// `Table_1_*/training/train_clip.py` (Weixin-Liang/Modality-Gap).
pub fn retrieval_ranks<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<RetrievalRanks> {
    check::paired(a.shape(), b.shape())?;
    let (a_to_b, b_to_a) = kernel::ranks(Sets::new(a.as_slice(), b.as_slice(), a.dim()), None);
    Ok(RetrievalRanks::new(a_to_b, b_to_a, (A::NAME, B::NAME)))
}
