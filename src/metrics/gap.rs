use super::same_dim;
use crate::{Error, Modality, Result, Scalar, UnitEmbeddings, norm::Norm, reduce::mean_row};

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
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2.
    pub fn vector(&self) -> &[f64] {
        &self.vector
    }

    /// The gap distance ‖Δ‖₂, the Euclidean distance between the two centroids.
    ///
    /// The centroids are not renormalised, so ‖Δ‖₂ ∈ [0, 2].
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
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2.
    pub fn distance(&self) -> f64 {
        self.norm.value()
    }

    /// The unit direction Δ / ‖Δ‖₂: what the peers call `modality_gap` and shift along.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroGap`] when Δ = 0 exactly (the peers' `my_norm` returns `NaN` there).
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
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.2 (shifting the embeddings along the
    /// gap direction).
    pub fn direction(&self) -> Result<Vec<f64>> {
        if self.norm.is_zero() {
            return Err(Error::ZeroGap);
        }
        Ok(self.vector.iter().map(|&v| self.norm.divide(v)).collect())
    }
}

/// The modality gap Δ = mean(a) − mean(b) of two sets of unit embeddings (Liang et al. 2022,
/// Sec. 4.2: "the difference between the center of image embeddings and text embeddings").
///
/// ```text
/// Δ = (1/n_a) Σᵢ aᵢ − (1/n_b) Σⱼ bⱼ,    ‖aᵢ‖ = ‖bⱼ‖ = 1
/// ```
///
/// Convention: the rows are normalised first (the type guarantees it), then averaged; the
/// centroids are *not* renormalised. The sign is first minus second (image minus text, the
/// peers' sign). The sets may differ in size (zero-shot: N images against C class prompts),
/// not in dimension. O(n·d), accumulated in f64.
///
/// # Errors
///
/// [`Error::DimensionMismatch`] if the dimensions differ.
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
    same_dim(a, b)?;
    let vector: Vec<f64> = mean_row(a)
        .into_iter()
        .zip(mean_row(b))
        .map(|(x, y)| x - y)
        .collect();
    let norm = Norm::of(|| vector.iter().copied());
    Ok(Gap { vector, norm })
}
