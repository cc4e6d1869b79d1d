/// Whether a measurement subtracts the mean row of its data first (column centring).
///
/// [`Centring::None`] measures the rows as they are; [`Centring::Mean`] measures xᵢ − x̄, where
/// x̄ is the mean row of the data the function names (for two-set functions, each set's own
/// mean unless the function says otherwise).
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
