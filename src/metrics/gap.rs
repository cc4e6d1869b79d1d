use crate::{
    Embeddings, Modality, Result, Scalar, UnitEmbeddings, check, norm::Norm, reduce::mean_row,
};

/// The modality gap between two sets of unit embeddings: the difference of their centroids.
///
/// ```text
/// Δ = (1/n_a) Σᵢ aᵢ − (1/n_b) Σⱼ bⱼ        (first set minus second: image minus text)
/// ‖Δ‖₂ ∈ [0, 2]                            the gap distance
/// Δ / ‖Δ‖₂                                 the gap direction (undefined when Δ = 0)
/// ```
///
/// Obtain it with [`gap`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0]])?)?;
/// let g = gap(&img, &txt)?; // opposite centroids: the largest gap, ‖Δ‖₂ = 2
/// assert_eq!((g.vector(), g.distance()), (&[2.0, 0.0][..], 2.0));
/// assert_eq!(g.direction()?, [1.0, 0.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang, Zhang, Kwon, Yeung, Zou, "Mind the Gap: Understanding the Modality Gap in
/// Multi-modal Contrastive Representation Learning", NeurIPS 2022, Sec. 4.2.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    vector: Vec<f64>,
    norm: Norm,
}

impl Gap {
    /// centroid(a) − centroid(b), from the two centroids (of one dimension).
    pub(crate) fn between_centroids(a: Vec<f64>, b: Vec<f64>) -> Self {
        let vector: Vec<f64> = a.into_iter().zip(b).map(|(x, y)| x - y).collect();
        let norm = Norm::of(|| vector.iter().copied());
        Gap { vector, norm }
    }

    /// The gap vector Δ = mean(a) − mean(b), of dimension d.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
    ///
    /// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
    /// assert_eq!(gap(&img, &txt)?.vector(), &[0.5, -0.5]); // (0.5, 0.5) − (0, 1)
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn vector(&self) -> &[f64] {
        &self.vector
    }

    /// The gap distance ‖Δ‖₂ ∈ [0, 2], the Euclidean distance between the two centroids.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
    ///
    /// // Two opposite images average to the origin, so Δ = (0, 0) − (0, 1).
    /// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [-1.0, 0.0]])?)?;
    /// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
    /// assert_eq!(gap(&img, &txt)?.distance(), 1.0);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn distance(&self) -> f64 {
        self.norm.value()
    }

    /// The unit direction Δ / ‖Δ‖₂: what Weixin-Liang/Modality-Gap calls `modality_gap` and
    /// shifts along.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroGap`](crate::Error::ZeroGap) when Δ = 0 exactly (the reference's `my_norm`
    /// returns `NaN` there).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Error, Image, Text, UnitEmbeddings, gap};
    ///
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
    /// assert!(matches!(gap(&a, &b)?.direction(), Err(Error::ZeroGap)));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn direction(&self) -> Result<Vec<f64>> {
        check::nonzero_gap(self.distance())?;
        Ok(self.vector.iter().map(|&v| self.norm.divide(v)).collect())
    }

    /// The gap dimension by dimension: every coordinate's Δⱼ and its share Δⱼ² / ‖Δ‖² of the
    /// squared gap, largest |Δⱼ| first (equal magnitudes: the lower dimension first).
    ///
    /// ```text
    /// share(j) = Δⱼ² / Σₖ Δₖ²        Σⱼ share(j) = 1
    /// ```
    ///
    /// Schrodi et al. find that a few dimensions carry most of the gap (on the CLIP pair
    /// embedded in this crate, two of 512 carry 69 % of ‖Δ‖²). The reference sorts the mean
    /// differences |μ_A − μ_B|ⱼ the same way.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroGap`](crate::Error::ZeroGap) when Δ = 0 (no shares).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
    ///
    /// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[0.6, 0.8, 0.0]])?)?;
    /// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 0.0, 1.0]])?)?;
    /// let dims = gap(&img, &txt)?.by_dimension()?; // Δ = (0.6, 0.8, −1), ‖Δ‖² = 2
    /// assert_eq!(dims.iter().map(|d| d.dimension).collect::<Vec<_>>(), [2, 1, 0]);
    /// assert_eq!((dims[0].difference, dims[0].share), (-1.0, 0.5)); // the text is larger there
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Schrodi et al., "Two Effects, One Trigger", ICLR 2025, Sec. 4;
    /// lmb-freiburg/two-effects-one-trigger, `analysis/gap_mean_differences.py`.
    pub fn by_dimension(&self) -> Result<Vec<DimensionShare>> {
        check::nonzero_gap(self.distance())?;
        // Scaled by the largest |Δₖ| first: Σ Δₖ² itself can underflow for a tiny gap.
        let largest = self.vector.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
        let squared: f64 = self.vector.iter().map(|v| (v / largest).powi(2)).sum();
        let mut shares: Vec<DimensionShare> = (self.vector.iter().enumerate())
            .map(|(dimension, &v)| DimensionShare {
                dimension,
                difference: v,
                share: (v / largest).powi(2) / squared,
            })
            .collect();
        // A stable sort keeps equal magnitudes in dimension order.
        shares.sort_by(|x, y| y.difference.abs().total_cmp(&x.difference.abs()));
        Ok(shares)
    }
}

/// One coordinate of the gap: which dimension, Δⱼ and Δⱼ² / ‖Δ‖². Listed by
/// [`Gap::by_dimension`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
/// let first = gap(&img, &txt)?.by_dimension()?[0]; // Δ = (1, −1): a tie, dimension 0 first
/// assert_eq!((first.dimension, first.difference, first.share), (0, 1.0, 0.5));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DimensionShare {
    /// The coordinate j.
    pub dimension: usize,
    /// Δⱼ = centroid(a)ⱼ − centroid(b)ⱼ: positive where the first set's centroid is larger.
    pub difference: f64,
    /// Δⱼ² / ‖Δ‖², this coordinate's share of the squared gap distance.
    pub share: f64,
}

/// The modality gap Δ = centroid(a) − centroid(b) of two sets of unit embeddings ([`Gap`]
/// has the formulas): "the difference between the center of image embeddings and text
/// embeddings" (Liang et al. 2022, Sec. 4.2).
///
/// The rows are normalised first (the type guarantees it), then averaged; the centroids are
/// *not* renormalised. The sign is first minus second (image minus text, as
/// Weixin-Liang/Modality-Gap). The sets may differ in size (zero-shot: N images against C
/// class prompts), not in dimension. O(n·d), accumulated in f64.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if the dimensions differ.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 0.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
/// let g = gap(&img, &txt)?;
/// assert_eq!(g.vector(), &[1.0, -1.0]);
/// assert!((g.distance() - 2f64.sqrt()).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang, Zhang, Kwon, Yeung, Zou, "Mind the Gap: Understanding the Modality Gap in
/// Multi-modal Contrastive Representation Learning", NeurIPS 2022, Sec. 4.2 and Fig. 1.
pub fn gap<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<Gap> {
    check::comparable(a.shape(), b.shape())?;
    Ok(Gap::between_centroids(centroid(a), centroid(b)))
}

/// The centroid (1/n) Σᵢ xᵢ of a set, in f64: the centre of a modality, of unit rows or not.
///
/// ```text
/// centroid(x)ₖ = (1/n) Σᵢ xᵢₖ
/// ```
///
/// Accumulated in f64 in fixed chunks of rows (the same bits for any thread count); O(n·d).
/// [`gap`] is the difference of two centroids; subtracting it from every row is the
/// mean-centring of C3 (Zhang et al., ICLR 2024).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, centroid};
///
/// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0], [0.0, 3.0]])?;
/// assert_eq!(centroid(&x), [0.5, 1.5]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (the centres of the two modalities).
pub fn centroid<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Vec<f64> {
    mean_row(x)
}
