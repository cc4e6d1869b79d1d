use nalgebra::DMatrix;

use crate::gram::{cross_products, cross_products_between, rounding_level, top_components};
use crate::reduce::{mean_row, per_chunk};
use crate::{Embeddings, Modality, Result, Scalar, check};

/// SVCCA (Raghu et al. 2017, as minyoungg/platonic-rep computes it): the mean canonical
/// correlation between the top-q singular subspaces of two z-scored sets of paired samples,
/// whose dimensions may differ.
///
/// ```text
/// Z = (X − 1μᵀ) diag(1/s),   sⱼ = std of column j (ddof = 1); a constant column stays 0
/// U = the top q left singular vectors of Z   (n × q, orthonormal columns), for A and for B
/// ρ₁ ≥ … ≥ ρ_q = the singular values of U_Aᵀ U_B    (the canonical correlations)
/// SVCCA = (1/q) Σⱼ ρⱼ    ∈ [0, 1]
/// ```
///
/// 1 when the two subspaces coincide: for example when B = A·P·D (P a permutation, D an
/// invertible diagonal) for any q, or B = A·M for any invertible M when q is the rank of A.
///
/// Exact, and never n × n: ZᵀZ is the d × d correlation matrix R of the set, accumulated in
/// f64 by blocked gemm (deterministic for any number of threads). Its top q eigenpairs
/// (λⱼ, vⱼ) give U = Z V Λ^(−1/2), so U_AᵀU_B = Λ_A^(−1/2) V_Aᵀ Z_AᵀZ_B V_B Λ_B^(−1/2), a
/// q × q matrix from the d_a × d_b cross products; its singular values are the canonical
/// correlations (the cosines of the principal angles between the subspaces, the correlations
/// sklearn's `CCA` finds between U_A and U_B). O(n·(d_a + d_b)²). Accuracy: the eigenvalues of
/// R carry an absolute error of about ε·λ₁, so a subspace is accurate to about
/// ε·λ₁/(λ_q − λ_{q+1}) (an SVD of Z would give ε·σ₁/(σ_q − σ_{q+1})); where λ_q ≈ λ_{q+1}
/// the top-q subspace itself is ill-defined, for any method.
///
/// The reference (`AlignmentMetrics.svcca`, q = `cca_dim`, default 10):
/// - z-scores with `torch.std` (ddof = 1) plus 1e-8: a constant column becomes 0 as here,
///   the others are scaled by 1/(sⱼ + 1e-8), a relative change of 1e-8/sⱼ that differs
///   between columns (≈ 2e-7 on unit CLIP rows, sⱼ ≈ 0.04), so its subspaces move slightly;
/// - takes U from `torch.svd_lowrank(·, q)`, a randomised approximation: on the README's
///   CLIP features at q = 10 two runs gave 0.514 and 0.564 where the exact top-10 subspaces
///   give 0.6205 (sklearn's CCA on the exact U and the singular values of U_AᵀU_B agree);
/// - fits sklearn's iterative `CCA` (NIPALS, tol 1e-6), adds 1e-10·N(0, 1) noise to the
///   canonical variates and averages their `np.corrcoef`.
///
/// This function computes the exact value the procedure estimates, deterministically.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless both sets have n rows;
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2;
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) (named `q`) for q = 0, for q
/// above min(d_a, d_b, n − 1) (the rank a centred set can have), and for q above the
/// numerical rank of either z-scored set: its q-th eigenvalue λ_q must exceed d·ε·λ₁
/// (singular values below √(d·ε)·σ₁ cannot be told from rounding on this route, and a
/// subspace through them would be arbitrary);
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when every column of a set is constant;
/// [`Error::Overflow`](crate::Error::Overflow) when the cross products overflow f64 (entries
/// beyond about 1e154).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, svcca};
///
/// let a = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0, 2.0], [0.0, 2.0, 1.0], [-1.0, 1.0, 0.0], [3.0, 1.0, -1.0]])?;
/// // The columns of a reordered, rescaled and shifted: the same z-scored subspaces.
/// let b = Embeddings::<f64, Text>::from_rows(&[[4.0, 2.0, 0.0], [2.0, 0.0, -4.0], [0.0, -2.0, -2.0], [8.0, -4.0, -2.0]])?;
/// for q in 1..=3 {
///     assert!((svcca(&a, &b, q)? - 1.0).abs() < 1e-12);
/// }
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// M. Raghu, J. Gilmer, J. Yosinski, J. Sohl-Dickstein, "SVCCA: Singular Vector Canonical
/// Correlation Analysis for Deep Learning Dynamics and Interpretability", NeurIPS 2017. Code:
/// minyoungg/platonic-rep, `metrics.py` (`AlignmentMetrics.svcca`).
pub fn svcca<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    q: usize,
) -> Result<f64> {
    let q = checked_q((a.shape(), b.shape()), q)?;
    let (mean_a, map_a) = top_subspace(a, q)?;
    let (mean_b, map_b) = top_subspace(b, q)?;
    let cross = cross_products_between(a.as_slice(), &mean_a, b.as_slice(), &mean_b);
    svcca_of((&map_a, &map_b), cross)
}

/// q, checked against the shapes (n, d) of the two sets: both of n ≥ 2 rows, and
/// 1 ≤ q ≤ min(d_a, d_b, n − 1).
pub(crate) fn checked_q(
    ((n, d_a), (m, d_b)): ((usize, usize), (usize, usize)),
    q: usize,
) -> Result<usize> {
    check::same_len(n, m)?;
    check::at_least(2, n)?;
    check::count_within(
        "q",
        q,
        1,
        d_a.min(d_b).min(n - 1),
        "between 1 and min(d_a, d_b, n − 1), the rank a centred set can have",
    )
}

/// SVCCA from the maps W_A, W_B of [`subspace_map`] and the cross products
/// Σᵢ (aᵢ − μ_A)(bᵢ − μ_B)ᵀ: the mean singular value of W_Aᵀ (cross) W_B.
pub(crate) fn svcca_of(
    (map_a, map_b): (&DMatrix<f64>, &DMatrix<f64>),
    cross: DMatrix<f64>,
) -> Result<f64> {
    check::no_overflow("the cross products of the two sets", cross.norm_squared())?;
    // U_Aᵀ U_B: entries at most 1 for any rows; a sharded part from outside bytes may make
    // them overflow, which the SVD must not see.
    let product = map_a.transpose() * cross * map_b;
    check::no_overflow("the canonical correlations", product.norm_squared())?;
    let correlations = product.singular_values();
    let q = correlations.len();
    Ok(correlations.iter().map(|r| r.clamp(0.0, 1.0)).sum::<f64>() / q as f64)
}

/// The mean row μ and the d × q matrix W with U = (X − 1μᵀ) W: the top q left singular
/// vectors of the z-scored set.
fn top_subspace<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    q: usize,
) -> Result<(Vec<f64>, DMatrix<f64>)> {
    let varies = varying_columns(x)?;
    let mean = mean_row(x);
    let scatter = cross_products(x.as_slice(), x.as_slice(), x.dim(), &mean);
    Ok((mean, subspace_map(scatter, &varies, q)?))
}

/// The d × q matrix W of [`top_subspace`] from the set's scatter Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ and
/// which of its columns vary ([`varying_columns`]).
pub(crate) fn subspace_map(
    scatter: DMatrix<f64>,
    varies: &[bool],
    q: usize,
) -> Result<DMatrix<f64>> {
    let d = varies.len();
    check::no_overflow("the cross products of the rows", scatter.trace())?;
    // zⱼ = (xⱼ − μⱼ)/‖xⱼ − μⱼ‖: the z-scores up to the common factor √(n − 1), which U does
    // not see. A column that is constant (or whose deviations square to 0) stays 0.
    // (Deviations whose squares are subnormal would give 1/√s with a few digits: such a column
    // counts as constant too, and a set of only such columns has no variance.)
    let scale: Vec<f64> = (0..d)
        .map(|j| match scatter[(j, j)] {
            s if varies[j] && s >= f64::MIN_POSITIVE => 1.0 / s.sqrt(),
            _ => 0.0,
        })
        .collect();
    check::some_variance(scale.iter().all(|&s| s == 0.0))?;
    let correlation = DMatrix::from_fn(d, d, |j, k| scatter[(j, k)] * scale[j] * scale[k]);
    // Each entry is at most 1 for the scatter of any rows; a sharded part from outside bytes
    // may hold anything.
    check::no_overflow(
        "the correlations of the columns",
        correlation.norm_squared(),
    )?;
    let (values, directions) = top_components(correlation, q);
    let resolved = values[q - 1] > rounding_level(d, values[0]);
    check::resolved_directions("q", q, resolved)?;
    // W = diag(scale) V Λ^(−1/2), V = the q directions as columns.
    Ok(DMatrix::from_fn(d, q, |j, c| {
        scale[j] * directions[(c, j)] / values[c].sqrt()
    }))
}

/// For each column, whether it takes more than one value (exactly, on the stored values);
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when none does.
pub(crate) fn varying_columns<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<Vec<bool>> {
    let first = x.row(0);
    let parts = per_chunk(x.len(), |rows| {
        let mut varies = vec![false; x.dim()];
        for i in rows {
            for ((v, value), reference) in varies.iter_mut().zip(x.row(i)).zip(first) {
                *v |= value != reference;
            }
        }
        varies
    });
    let mut varies = vec![false; x.dim()];
    for part in parts {
        varies.iter_mut().zip(part).for_each(|(v, p)| *v |= p);
    }
    check::some_variance(!varies.contains(&true))?;
    Ok(varies)
}
