//! The spectrum of one set, from the eigenvalues of its d × d Gram matrix: the effective rank
//! and IsoScore.

mod effective_rank;
mod isoscore;

pub(crate) use effective_rank::rank_of_spectrum;
pub use effective_rank::{EffectiveRank, Spectrum, effective_rank};
pub use isoscore::isoscore;
pub(crate) use isoscore::{isoscore_dimension, isoscore_of, of_participation};

use nalgebra::DMatrix;

use crate::gram::{cross_products, eigenvalues, rounding_level};
use crate::reduce::{mean_row, reach};
use crate::{Centring, Embeddings, Modality, Result, Scalar, check};

/// The eigenvalues λ₁ ≥ … ≥ λ_d ≥ 0 of the Gram matrix Σᵢ (xᵢ − c)(xᵢ − c)ᵀ (c the mean row for
/// [`Centring::Mean`], 0 for [`Centring::None`]), and the rank bound: min(n − 1, d) centred,
/// min(n, d) not. Those past the bound (0 in exact arithmetic) and those at or below the
/// rounding level d·ε·λ₁ ([`rounding_level`]) are set to 0.
///
/// Errors: n < 2 when centred; [`Error::ZeroVariance`](crate::Error::ZeroVariance) when every
/// row is the centre (all zero, or centred, all equal; decided exactly on the rows);
/// [`Error::Overflow`](crate::Error::Overflow) when the Gram matrix overflows f64.
fn gram_spectrum<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    centring: Centring,
) -> Result<(Vec<f64>, usize)> {
    let (centre, bound) = gram_setup(x, centring)?;
    let gram = cross_products(x.as_slice(), x.as_slice(), x.dim(), &centre);
    Ok((spectrum_of(gram, bound)?, bound))
}

/// The centre c and the rank bound of [`gram_spectrum`], after its checks of the rows.
pub(crate) fn gram_setup<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    centring: Centring,
) -> Result<(Vec<f64>, usize)> {
    let (n, d) = x.shape();
    let (centre, bound) = match centring {
        Centring::None => (vec![0.0; d], n.min(d)),
        Centring::Mean => {
            check::at_least(2, n)?;
            (mean_row(x), (n - 1).min(d))
        }
    };
    // Every row at the centre, decided on the stored values (the computed mean carries
    // rounding): all zero, or all equal to the first row.
    let reference: Vec<f64> = match centring {
        Centring::None => vec![0.0; d],
        Centring::Mean => x.row(0).iter().map(|v| v.to_f64()).collect(),
    };
    check::some_variance(reach(x, &reference).coordinate == 0.0)?;
    Ok((centre, bound))
}

/// The eigenvalues of [`gram_spectrum`] from the Gram matrix and the rank bound.
pub(crate) fn spectrum_of(gram: DMatrix<f64>, bound: usize) -> Result<Vec<f64>> {
    // Off the diagonal |gⱼₖ| ≤ √(gⱼⱼ gₖₖ) ≤ tr: a finite trace bounds every entry of a Gram
    // matrix of rows. A sharded part from outside bytes may hold anything: its first entry that
    // is not finite, if any, is the error.
    let worst = (gram.iter().copied())
        .find(|g| !g.is_finite())
        .unwrap_or(gram.trace());
    check::no_overflow("the Gram matrix of the rows", worst)?;
    let mut values = eigenvalues(gram);
    drop_rounding(&mut values, bound)?;
    Ok(values)
}

/// Sets to 0 the eigenvalues (decreasing) past the rank bound and those at or below the
/// rounding level d·ε·λ₁ ([`rounding_level`]).
///
/// Errors: [`Error::ZeroVariance`](crate::Error::ZeroVariance) when λ₁ ≤ 0 (entries below
/// about 1e-154 square to 0: no variance that f64 can see);
/// [`Error::Overflow`](crate::Error::Overflow) when λ₁ is not finite.
pub(crate) fn drop_rounding(values: &mut [f64], bound: usize) -> Result<()> {
    check::some_variance(values[0] <= 0.0)?;
    // At most the trace for a Gram matrix of rows; a sharded part from outside bytes may hold
    // anything.
    check::no_overflow("the largest eigenvalue of the Gram matrix", values[0])?;
    let noise = rounding_level(values.len(), values[0]);
    values[bound..].fill(0.0);
    values
        .iter_mut()
        .filter(|l| **l <= noise)
        .for_each(|l| *l = 0.0);
    Ok(())
}
