use nalgebra::{DMatrix, DMatrixView};

use crate::gram::{apply_to_rows, cross_products, top_components};
use crate::{Centring, Embeddings, Modality, Result, Scalar, centroid, check};

/// The rows of [images; texts] projected onto their top k principal directions, with the
/// spectrum. Built by [`project`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
///
/// let img = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1, 0.0], [1.0, -0.1, 0.0]])?;
/// let txt = Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0, 0.1], [-1.0, 0.0, -0.1]])?;
/// let p = project(&img, &txt, 2, Centring::Mean)?;
/// assert_eq!(p.coordinates().shape(), (4, 2));
/// assert_eq!((p.images().nrows(), p.texts().nrows()), (2, 2));
/// assert!(p.explained_variance_ratio()[0] > 0.98); // the gap dominates
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 1 and Fig. 2c; the `svd` of
/// Weixin-Liang/Modality-Gap and sklearn's `PCA`.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// (n_a + n_b) × k, images first.
    coordinates: DMatrix<f64>,
    /// n_a.
    images: usize,
    /// k × d, orthonormal rows.
    components: DMatrix<f64>,
    /// The mean row (Centring::Mean) or zeros (Centring::None).
    centre: Vec<f64>,
    singular_values: Vec<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
}

impl Projection {
    /// The coordinates of every row, (n_a + n_b) × k: row i is (xᵢ − μ)·vⱼ for j = 1..k,
    /// images first, then texts.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[2.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[-2.0, 0.0]])?;
    /// let p = project(&img, &txt, 1, Centring::None)?;
    /// assert_eq!(p.coordinates().as_slice(), &[2.0, -2.0]); // v₁ = e₁, signed to be positive
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn coordinates(&self) -> &DMatrix<f64> {
        &self.coordinates
    }

    /// The images' coordinates, the first n_a rows of [`coordinates`](Self::coordinates).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[2.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[-2.0, 0.0], [-2.0, 0.0]])?;
    /// let p = project(&img, &txt, 1, Centring::None)?;
    /// assert_eq!(p.images().iter().copied().collect::<Vec<_>>(), [2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn images(&self) -> DMatrixView<'_, f64> {
        self.coordinates.rows(0, self.images)
    }

    /// The texts' coordinates, the last n_b rows of [`coordinates`](Self::coordinates).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[2.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[-2.0, 0.0], [-2.0, 0.0]])?;
    /// let p = project(&img, &txt, 1, Centring::None)?;
    /// assert_eq!(p.texts().iter().copied().collect::<Vec<_>>(), [-2.0, -2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn texts(&self) -> DMatrixView<'_, f64> {
        let n = self.coordinates.nrows();
        self.coordinates.rows(self.images, n - self.images)
    }

    /// The k principal directions as the rows of a k × d matrix (orthonormal), in decreasing
    /// order of singular value; each row's entry of largest magnitude is positive.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[0.0, -3.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0]])?;
    /// let p = project(&img, &txt, 2, Centring::None)?;
    /// assert_eq!(p.components().row(0).iter().copied().collect::<Vec<_>>(), [0.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn components(&self) -> &DMatrix<f64> {
        &self.components
    }

    /// The point the components pass through: the mean row of [images; texts] for
    /// [`Centring::Mean`], the origin for [`Centring::None`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[3.0, 0.0]])?;
    /// assert_eq!(project(&img, &txt, 1, Centring::Mean)?.centre(), &[2.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn centre(&self) -> &[f64] {
        &self.centre
    }

    /// The top k singular values S₁ ≥ … ≥ S_k ≥ 0 of the (centred) n × d matrix X.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[3.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[0.0, 4.0]])?;
    /// assert_eq!(project(&img, &txt, 2, Centring::None)?.singular_values(), &[4.0, 3.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn singular_values(&self) -> &[f64] {
        &self.singular_values
    }

    /// The variance along each component, S_j² / (n − 1) with n = n_a + n_b (sklearn's
    /// `explained_variance_`; for [`Centring::None`] the same formula about the origin).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0]])?;
    /// assert_eq!(project(&img, &txt, 1, Centring::Mean)?.explained_variance(), &[2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// The share of the total variance along each component, S_j² / Σ_{all d} S², in [0, 1]
    /// and non-increasing (sklearn's `explained_variance_ratio_`).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
    ///
    /// let img = Embeddings::<f64, Image>::from_rows(&[[3.0, 0.0]])?;
    /// let txt = Embeddings::<f64, Text>::from_rows(&[[0.0, 4.0]])?;
    /// let ratio = project(&img, &txt, 1, Centring::None)?.explained_variance_ratio()[0];
    /// assert!((ratio - 16.0 / 25.0).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }
}

/// Projects [images; texts] onto its top k principal directions: the 2-D views of Fig. 1
/// (uncentred) and sklearn's PCA (centred).
///
/// ```text
/// X = [images; texts] − 1 μᵀ          (μ = mean row for Centring::Mean, 0 for Centring::None)
/// XᵀX = V Λ Vᵀ,  λ₁ ≥ … ≥ λ_d,  S_j = √λ_j      (X = U S Vᵀ)
/// coordinates = X V_k = U_k S_k,   components = V_kᵀ
/// explained variance = S_j² / (n − 1),   ratio = S_j² / Σ_{all d} S² = λ_j / tr(XᵀX)
/// ```
///
/// The d × d scatter matrix XᵀX is accumulated in f64 about the mean computed first (gemm on
/// blocks of rows, rayon over a fixed split, O(n·d²)); its symmetric eigendecomposition costs
/// O(d³) and the coordinates O(n·d·k). Nothing n × n is formed, so n = 10⁶ at d = 512 is fine.
///
/// Accuracy: working with XᵀX squares the condition number. Eigenvalues are accurate to about
/// ε·λ₁ absolutely, so S_j is accurate to about ε·S₁²/S_j² relatively, and a direction to
/// about ε·S₁²/(S_j² − S_{j+1}²): the top components of embedding data are as good as an
/// SVD's, components far down a decaying spectrum are not (use an SVD of X for those).
///
/// Sign convention: each component's entry of largest magnitude is positive (sklearn ≥ 1.5;
/// the first such entry on ties). The reference's uncentred `svd` leaves the
/// signs to LAPACK, so compare its coordinates up to the sign of each column.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch); [`Error::InvalidParameter`](crate::Error::InvalidParameter) for k = 0 or k > min(n, d)
/// (beyond the rank of the rows, components would be arbitrary; sklearn refuses them too);
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) if every row equals the centre (all rows zero, or, centred, all
/// rows equal; decided exactly on the rows), where no direction and no ratio is defined;
/// [`Error::Overflow`](crate::Error::Overflow) if the scatter matrix overflows f64 (entries beyond about 1e154).
/// (Centring needs n ≥ 2 rows, which [images; texts] always has.)
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, Centring, experiments::project};
///
/// let img = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1, 0.0], [1.0, -0.1, 0.0]])?;
/// let txt = Embeddings::<f64, Text>::from_rows(&[[-1.0, 0.0, 0.1], [-1.0, 0.0, -0.1]])?;
/// let pca = project(&img, &txt, 2, Centring::Mean)?;
/// // The first component separates the modalities: images on one side, texts on the other.
/// assert!(pca.images().column(0).iter().all(|&c| c > 0.9));
/// assert!(pca.texts().column(0).iter().all(|&c| c < -0.9));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 1 (`Figure_1_Modality_Gap/repr_*.ipynb`
/// `svd` and `Table_1_*/training/utils.py` lines 384–389) and Fig. 2c
/// (`visualizePCA.ipynb`; `plot_optimization_exp.ipynb` cell 3), in Weixin-Liang/Modality-Gap.
pub fn project<T: Scalar, A: Modality, B: Modality>(
    images: &Embeddings<T, A>,
    texts: &Embeddings<T, B>,
    k: usize,
    centring: Centring,
) -> Result<Projection> {
    check::comparable(images.shape(), texts.shape())?;
    let d = images.dim();
    check::at_least_one("k", k)?;
    let n = images.len() + texts.len();
    check::count_within(
        "k",
        k,
        1,
        d.min(n),
        "at most min(n, d), the largest rank of the rows",
    )?;
    check::some_variance(every_row_is_the_centre(images, texts, centring))?;
    let centre = match centring {
        Centring::None => vec![0.0; d],
        Centring::Mean => {
            let (na, nb) = (images.len() as f64, texts.len() as f64);
            centroid(images)
                .into_iter()
                .zip(centroid(texts))
                .map(|(a, b)| (na * a + nb * b) / n as f64)
                .collect()
        }
    };
    let scatter = cross_products(images.as_slice(), images.as_slice(), d, &centre)
        + cross_products(texts.as_slice(), texts.as_slice(), d, &centre);
    // Off the diagonal |sⱼₖ| ≤ √(sⱼⱼ sₖₖ) ≤ tr: a finite trace bounds every entry.
    let total = check::no_overflow("the scatter matrix of the rows", scatter.trace())?;
    let (eigenvalues, components) = top_components(scatter, k);
    let rows: Vec<f64> = apply_to_rows(images.as_slice(), &centre, &components)
        .into_iter()
        .chain(apply_to_rows(texts.as_slice(), &centre, &components))
        .collect();
    Ok(Projection {
        coordinates: DMatrix::from_row_slice(n, k, &rows),
        images: images.len(),
        components,
        centre,
        singular_values: eigenvalues.iter().map(|l| l.sqrt()).collect(),
        explained_variance: eigenvalues.iter().map(|l| l / (n - 1) as f64).collect(),
        explained_variance_ratio: eigenvalues.iter().map(|l| l / total).collect(),
    })
}

/// Whether no direction carries variance, decided on the rows themselves (a computed mean
/// or trace would leave rounding noise): every row zero, or, centred, every row equal.
fn every_row_is_the_centre<T: Scalar, A: Modality, B: Modality>(
    images: &Embeddings<T, A>,
    texts: &Embeddings<T, B>,
    centring: Centring,
) -> bool {
    let first = images.row(0);
    let is_centre = |row: &[T]| match centring {
        Centring::None => row.iter().all(|v| v.to_f64() == 0.0),
        Centring::Mean => row == first,
    };
    images.rows().chain(texts.rows()).all(is_centre)
}
