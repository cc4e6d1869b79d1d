use crate::{Embeddings, Modality, Result, Scalar, UnitEmbeddings, centroid, check};

/// Whether a measurement subtracts the mean row of its data first (column centring).
///
/// [`Centring::None`] measures the rows as they are; [`Centring::Mean`] measures xᵢ − x̄, where
/// x̄ is the mean row of the data the function names: the set's own for
/// [`effective_rank`](crate::effective_rank), that of [images; texts] for
/// [`experiments::project`](crate::experiments::project).
///
/// # Examples
///
/// ```
/// use modality_gap::Centring;
///
/// assert_ne!(Centring::None, Centring::Mean);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 1 (`Table_1_*/training/utils.py` lines
/// 384–389, uncentred); sklearn's centred PCA in Supp. Fig. 7 (`visualizePCA.ipynb`) and in
/// `plot_optimization_exp.ipynb` cell 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Centring {
    /// No centring: the rows as they are. For [`project`](crate::experiments::project), the
    /// Fig. 1 view, `U[:, :k]·S[:k]` of the SVD of X itself (the reference's `svd`, whose mean
    /// subtraction is commented out): components pass through the origin, so the first one
    /// points at the data's centre of mass.
    None,
    /// Subtract the mean row first. For [`project`](crate::experiments::project), the mean
    /// row of [images; texts]: sklearn's `PCA`.
    Mean,
}

/// Closes the modality gap by centring each modality: every row minus its set's centroid,
/// normalised again (C3's "collapse" step, and I0T's mean subtraction).
///
/// ```text
/// x̃ᵢ = (xᵢ − x̄) / ‖xᵢ − x̄‖₂,    x̄ = (1/n) Σⱼ xⱼ
/// ```
///
/// Applied to each modality on its own, it moves both centroids to near the origin, so the
/// gap between the centred sets is small (not exactly zero: the rows are renormalised after
/// centring). The difference xᵢ − x̄ is taken in f64 and rounded to `T` before the rows are
/// normalised in `T`, as [`UnitEmbeddings::normalize`] does.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (the one row is its own
/// mean), [`Error::ZeroNorm`](crate::Error::ZeroNorm) if a row equals the centroid.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, gap, mean_centred, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let before = gap(&img, &txt)?.distance();
/// let after = gap(&mean_centred(&img)?, &mean_centred(&txt)?)?.distance();
/// assert!((before - 0.85135).abs() < 1e-5 && (after - 0.02788).abs() < 1e-5);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Y. Zhang, E. Sui, S. Yeung-Levy, "Connect, Collapse, Corrupt: Learning Cross-Modal Tasks
/// with Uni-Modal Data", ICLR 2024, Sec. 4 (yuhui-zh15/C3); N. An et al., "I0T: Embedding
/// Standardization Method Towards Zero Modality Gap", 2024.
pub fn mean_centred<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
) -> Result<UnitEmbeddings<T, M>> {
    check::at_least(2, x.len())?;
    let mean = centroid(x);
    let rows: Vec<T> = (x.rows())
        .flat_map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(v, m)| T::from_f64(v.to_f64() - m))
        })
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(x.len(), x.dim(), rows)?)
}
