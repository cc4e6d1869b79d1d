//! The tiles of CKA: the cross products ÃᵀÃ, B̃ᵀB̃ and ÃᵀB̃ behind [`cka`](crate::cka), cut
//! at the nodes of their summation tree.

use std::ops::Range;

use nalgebra::DMatrix;

use super::{Metric, Part, Pass, Plan};
use crate::gram::{
    cross_product_tiles, cross_products_between_of_tile, cross_products_between_of_tiles,
    cross_products_of_tile, cross_products_of_tiles,
};
use crate::metrics::similarity::{RowTerms, centre, check_sets, cka_of};
use crate::{Embeddings, HsicEstimator, Modality, Result, Scalar, ShardError};

/// The state of one tile of a CKA: the cross products of its centred rows, ÃᵀÃ and B̃ᵀB̃
/// (upper triangles) and ÃᵀB̃, column-major; the first tile of the unbiased estimator also
/// holds the O(n·d) terms of all rows (from each row's squared norm).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CkaTile {
    products: CrossProducts,
    rows: Option<RowTerms>,
}

/// The cross products of a tile's rows, each set centred by its mean: ÃᵀÃ and B̃ᵀB̃ (upper
/// triangles) and ÃᵀB̃, column-major. The tiles are the nodes of the products' summation tree
/// ([`cross_product_tiles`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct CrossProducts {
    aa: Vec<f64>,
    bb: Vec<f64>,
    ab: Vec<f64>,
}

impl CrossProducts {
    /// The products of the rows `rows` of `a` and `b` (row-major), centred by their means.
    pub(super) fn of_tile<T: Scalar>(
        (a, mean_a): (&[T], &[f64]),
        (b, mean_b): (&[T], &[f64]),
        rows: Range<usize>,
    ) -> Self {
        Self {
            aa: cross_products_of_tile(a, mean_a, rows.clone()).data.into(),
            bb: cross_products_of_tile(b, mean_b, rows.clone()).data.into(),
            ab: cross_products_between_of_tile((a, mean_a), (b, mean_b), rows)
                .data
                .into(),
        }
    }

    /// Whether the products are of sets of dimensions `d_a` and `d_b`.
    pub(super) fn sized(&self, d_a: usize, d_b: usize) -> bool {
        let size = |rows: usize, cols: usize| rows.checked_mul(cols);
        Some(self.aa.len()) == size(d_a, d_a)
            && Some(self.bb.len()) == size(d_b, d_b)
            && Some(self.ab.len()) == size(d_a, d_b)
    }

    /// [ÃᵀÃ, B̃ᵀB̃, ÃᵀB̃] over n rows from the products of every tile ([`sized`](Self::sized)),
    /// in order: added up the summation tree as the one-process pass adds them.
    pub(super) fn sum_of(
        n: usize,
        (d_a, d_b): (usize, usize),
        tiles: impl IntoIterator<Item = Self>,
    ) -> [DMatrix<f64>; 3] {
        let mut products = [Vec::new(), Vec::new(), Vec::new()];
        for tile in tiles {
            products[0].push(DMatrix::from_vec(d_a, d_a, tile.aa));
            products[1].push(DMatrix::from_vec(d_b, d_b, tile.bb));
            products[2].push(DMatrix::from_vec(d_a, d_b, tile.ab));
        }
        let [aa, bb, ab] = products;
        [
            cross_products_of_tiles(n, aa),
            cross_products_of_tiles(n, bb),
            cross_products_between_of_tiles(n, ab),
        ]
    }
}

impl Plan {
    /// The plan of [`cka`](crate::cka)`(a, b, estimator)`: tiles of rows, each the three
    /// cross products of its rows.
    ///
    /// # Errors
    ///
    /// As [`cka`](crate::cka), for the errors decided on the rows (too few, different lengths,
    /// a set of equal rows); the others come from `finish`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, HsicEstimator, Image, Text, cka};
    ///
    /// let rows: Vec<[f64; 3]> = (0..5000).map(|i| {
    ///     let t = i as f64 * 0.61;
    ///     [t.cos(), t.sin(), 0.1 * (3.0 * t).cos()]
    /// }).collect();
    /// let a = Embeddings::<f64, Image>::from_rows(&rows)?;
    /// let b = Embeddings::<f64, Text>::from_rows(&rows.iter().map(|r| [r[0] + r[2], r[1] * r[1]]).collect::<Vec<_>>())?;
    /// let plan = Plan::cka(&a, &b, HsicEstimator::Unbiased)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::cka(&plan, &a, &b, tiles));
    /// let value = first?.merge(second?)?.finish()?;
    /// assert_eq!(value.to_bits(), cka(&a, &b, HsicEstimator::Unbiased)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cka<T: Scalar, A: Modality, B: Modality>(
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        estimator: HsicEstimator,
    ) -> Result<Self> {
        check_sets(a.len(), b.len(), estimator)?;
        centre(a)?;
        centre(b)?;
        let tile_rows: Vec<u64> = cross_product_tiles(a.len())
            .into_iter()
            .map(|rows| rows.len() as u64)
            .collect();
        Ok(Self {
            pass: cka_pass(a, b, estimator, tile_rows.len()),
            tile_pairs: tile_rows,
        })
    }
}

/// The pass of a CKA; its parameter holds the estimator (bit 0: unbiased) and the dimension
/// of B (the bits above).
fn cka_pass<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    estimator: HsicEstimator,
    tiles: usize,
) -> Pass {
    Pass {
        metric: Metric::Cka,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: 2 * b.dim() as u64 + u64::from(estimator == HsicEstimator::Unbiased),
        groups: 0,
        tiles,
    }
}

/// The estimator and the dimension of B of a CKA's pass.
pub(super) fn estimator_and_dim(parameter: u64) -> (HsicEstimator, u64) {
    let estimator = if parameter & 1 == 0 {
        HsicEstimator::Biased
    } else {
        HsicEstimator::Unbiased
    };
    (estimator, parameter / 2)
}

/// The part of [`cka`](crate::cka) over the tiles `tiles` of `plan`, made with
/// [`Plan::cka`]`(a, b, estimator)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::cka`].
pub fn cka<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<CkaTile>> {
    plan.check_tiles(&tiles)?;
    let (estimator, _) = estimator_and_dim(plan.pass.parameter);
    plan.check_pass(cka_pass(a, b, estimator, plan.tiles()))?;
    let (centre_a, centre_b) = (centre(a)?, centre(b)?);
    let (x, y) = (a.as_slice(), b.as_slice());
    let rows = cross_product_tiles(a.len());
    let states = tiles
        .clone()
        .map(|tile| CkaTile {
            products: CrossProducts::of_tile((x, &centre_a), (y, &centre_b), rows[tile].clone()),
            rows: (tile == 0 && estimator == HsicEstimator::Unbiased)
                .then(|| RowTerms::of((a, &centre_a), (b, &centre_b))),
        })
        .collect();
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

impl Part<CkaTile> {
    /// [`cka`](crate::cka), from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile of the wrong size, or row terms where the plan has
    /// none or none where it has them (a corrupted transfer); as [`cka`](crate::cka).
    ///
    /// # Examples
    ///
    /// See [`Plan::cka`].
    pub fn finish(self) -> Result<f64> {
        let (pass, states) = self.complete(&[Metric::Cka])?;
        let (n, _, d_a, _) = pass.shape;
        let (estimator, d_b) = estimator_and_dim(pass.parameter);
        let d_b = usize::try_from(d_b).unwrap_or(usize::MAX);
        let unbiased = estimator == HsicEstimator::Unbiased;
        let rows = states.first().and_then(|tile| tile.rows);
        let terms_where_planned = states
            .iter()
            .enumerate()
            .all(|(k, tile)| tile.rows.is_some() == (k == 0 && unbiased));
        if states.len() != cross_product_tiles(n).len()
            || !states.iter().all(|tile| tile.products.sized(d_a, d_b))
            || !terms_where_planned
        {
            return Err(ShardError::NotThePlan {
                what: "the number or the size of the tiles' cross products, or their row terms",
            }
            .into());
        }
        let products = states.into_iter().map(|tile| tile.products);
        let products = CrossProducts::sum_of(n, (d_a, d_b), products);
        cka_of(n, (d_a, d_b), products, rows)
    }
}
