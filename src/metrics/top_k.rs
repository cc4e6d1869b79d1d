use crate::{
    Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, Sets},
};

/// The k most similar keys of every query. Obtain it with [`top_k`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
///
/// let queries = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.2]])?)?;
/// let keys = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
/// let best = top_k(&queries, &keys, 2)?;
/// assert_eq!(best.indices(0), &[1, 0]);
/// assert!(best.similarities(0)[0] > best.similarities(0)[1]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022: zero-shot classification and Hit@K of their
/// `evaluate_classification` (`Table_1_*/training/train_clip.py`).
#[derive(Debug, Clone, PartialEq)]
pub struct TopK {
    width: usize,
    indices: Vec<usize>,
    similarities: Vec<f64>,
}

impl TopK {
    /// The number of queries.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
    ///
    /// let q = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0], [2.0], [3.0]])?)?;
    /// let k = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[[1.0]])?)?;
    /// assert_eq!(top_k(&q, &k, 5)?.len(), 3);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.indices.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether there are no queries (never: embeddings are non-empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
    ///
    /// let q = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0]])?)?;
    /// assert!(!top_k(&q, &q.clone().with_modality::<Text>(), 1)?.is_empty());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The indices of the keys most similar to query i, best first: min(k, m) of them.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`TopK::len`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
    ///
    /// let q = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
    /// let keys = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0], [1.0, 1.0]])?)?;
    /// assert_eq!(top_k(&q, &keys, 1)?.indices(0), &[1]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn indices(&self, i: usize) -> &[usize] {
        &self.indices[i * self.width..][..self.width]
    }

    /// The cosine similarities of those keys to query i, in the same order (non-increasing).
    ///
    /// # Panics
    ///
    /// If `i` is not below [`TopK::len`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
    ///
    /// let q = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
    /// let keys = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0], [1.0, 0.0]])?)?;
    /// assert_eq!(top_k(&q, &keys, 2)?.similarities(0), &[1.0, -1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn similarities(&self, i: usize) -> &[f64] {
        &self.similarities[i * self.width..][..self.width]
    }
}

/// For every query qᵢ, the k keys with the largest cosine similarity qᵢ·kⱼ, best first.
///
/// ```text
/// top_k(i) = the first min(k, m) keys j in the order: qᵢ·kⱼ descending, then j descending
/// ```
///
/// Ties rank the larger key index first: the order of the last k entries of a stable
/// ascending `argsort`, as the Hit@K and retrieval code of Weixin-Liang/Modality-Gap (`np.argmax` would pick the
/// smaller index instead; the two differ only on exact ties). K = 1 is the zero-shot
/// prediction against class prompts. One pass of the pairwise kernel, O(n·k) memory.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for k = 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
///
/// // Two images, three class prompts: image 0 is closest to prompt 2, image 1 to prompt 0.
/// let img = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[0.1, 1.0], [1.0, 0.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])?)?;
/// let best = top_k(&img, &prompts, 1)?;
/// assert_eq!((best.indices(0), best.indices(1)), (&[2][..], &[0][..]));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 5.1 and Table 1 (zero-shot accuracy);
/// their `evaluate_classification` in `Table_1_*/training/train_clip.py`.
pub fn top_k<T: Scalar, A: Modality, B: Modality>(
    queries: &UnitEmbeddings<T, A>,
    keys: &UnitEmbeddings<T, B>,
    k: usize,
) -> Result<TopK> {
    check::comparable(queries.shape(), keys.shape())?;
    check::at_least_one("k", k)?;
    let sets = Sets::new(queries.as_slice(), keys.as_slice(), queries.dim());
    let (indices, similarities) = kernel::top_k(sets, k);
    Ok(TopK::of_lists(k.min(keys.len()), indices, similarities))
}

impl TopK {
    /// The lists of `width` entries each, query after query.
    pub(crate) fn of_lists(width: usize, indices: Vec<usize>, similarities: Vec<f64>) -> Self {
        TopK {
            width,
            indices,
            similarities,
        }
    }
}
