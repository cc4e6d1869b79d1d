//! The tiles of SVCCA: the cross products behind [`svcca`](crate::svcca), cut at the nodes of
//! their summation tree as CKA's are.

use std::ops::Range;

use super::cka::CrossProducts;
use super::{Metric, Part, Pass, Plan};
use crate::gram::cross_product_tiles;
use crate::metrics::similarity::{checked_q, subspace_map, svcca_of, varying_columns};
use crate::reduce::mean_row;
use crate::{Embeddings, Modality, Result, Scalar, ShardError, check};

/// The state of one tile of an SVCCA: the cross products of its rows, each set centred by its
/// mean (ÃᵀÃ and B̃ᵀB̃, upper triangles, and ÃᵀB̃, column-major); the first tile also holds
/// which columns of each set vary (a column of equal values stays out of the z-scores).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SvccaTile {
    products: CrossProducts,
    varies: Option<[Vec<bool>; 2]>,
}

impl Plan {
    /// The plan of [`svcca`](crate::svcca)`(a, b, q)`: tiles of rows, each the three cross
    /// products of its rows (at most 16, the nodes of the products' summation tree).
    ///
    /// # Errors
    ///
    /// As [`svcca`](crate::svcca), for the errors decided on the shapes, q and the columns
    /// (the others come from `finish`); [`Error::Overflow`](crate::Error::Overflow) for B of
    /// 2³² or more dimensions.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, svcca};
    ///
    /// let rows: Vec<[f64; 3]> = (0..3000).map(|i| {
    ///     let t = i as f64 * 0.61;
    ///     [t.cos(), t.sin(), 0.1 * (3.0 * t).cos()]
    /// }).collect();
    /// let a = Embeddings::<f64, Image>::from_rows(&rows)?;
    /// let b = Embeddings::<f64, Text>::from_rows(&rows.iter().map(|r| [r[0] + r[2], r[1] * r[1]]).collect::<Vec<_>>())?;
    /// let plan = Plan::svcca(&a, &b, 2)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::svcca(&plan, &a, &b, tiles));
    /// let value = first?.merge(second?)?.finish()?;
    /// assert_eq!(value.to_bits(), svcca(&a, &b, 2)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn svcca<T: Scalar, A: Modality, B: Modality>(
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        q: usize,
    ) -> Result<Self> {
        let q = checked_q((a.shape(), b.shape()), q)?;
        varying_columns(a)?;
        varying_columns(b)?;
        check::at_most(
            "the dimension of B in an SVCCA plan (below 2^32)",
            b.dim() as u64,
            u64::from(u32::MAX),
        )?;
        let tile_rows: Vec<u64> = cross_product_tiles(a.len())
            .into_iter()
            .map(|rows| rows.len() as u64)
            .collect();
        Ok(Self {
            pass: svcca_pass(a, b, q, tile_rows.len()),
            tile_pairs: tile_rows,
        })
    }
}

/// The pass of an SVCCA; its parameter holds q (the low 32 bits) and the dimension of B.
fn svcca_pass<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    q: usize,
    tiles: usize,
) -> Pass {
    Pass {
        metric: Metric::Svcca,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: q as u64 | (b.dim() as u64) << 32,
        groups: 0,
        tiles,
    }
}

/// (q, the dimension of B) of an SVCCA's pass.
fn q_and_dim(parameter: u64) -> (usize, usize) {
    (
        (parameter & u64::from(u32::MAX)) as usize,
        (parameter >> 32) as usize,
    )
}

/// Whether a plan could have made an SVCCA pass of n rows of A (dimension `d_a`) and m of B
/// with this parameter.
pub(super) fn plausible((n, m, d_a): (usize, usize, usize), parameter: u64) -> bool {
    let (q, d_b) = q_and_dim(parameter);
    d_b >= 1 && checked_q(((n, d_a), (m, d_b)), q).is_ok()
}

/// The part of [`svcca`](crate::svcca) over the tiles `tiles` of `plan`, made with
/// [`Plan::svcca`]`(a, b, q)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::svcca`].
pub fn svcca<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<SvccaTile>> {
    plan.check_tiles(&tiles)?;
    let (q, _) = q_and_dim(plan.pass.parameter);
    plan.check_pass(svcca_pass(a, b, q, plan.tiles()))?;
    let (mean_a, mean_b) = (mean_row(a), mean_row(b));
    let rows = cross_product_tiles(a.len());
    let states = tiles
        .clone()
        .map(|tile| {
            let sides = ((a.as_slice(), &mean_a[..]), (b.as_slice(), &mean_b[..]));
            Ok(SvccaTile {
                products: CrossProducts::of_tile(sides.0, sides.1, rows[tile].clone()),
                varies: if tile == 0 {
                    Some([varying_columns(a)?, varying_columns(b)?])
                } else {
                    None
                },
            })
        })
        .collect::<Result<_>>()?;
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

impl Part<SvccaTile> {
    /// [`svcca`](crate::svcca), from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile of the wrong size, or columns where the plan has
    /// none or none where it has them (a corrupted transfer); as [`svcca`](crate::svcca).
    ///
    /// # Examples
    ///
    /// See [`Plan::svcca`].
    pub fn finish(self) -> Result<f64> {
        let (pass, mut states) = self.complete(&[Metric::Svcca])?;
        let (n, _, d_a, _) = pass.shape;
        let (q, d_b) = q_and_dim(pass.parameter);
        let varies = states.first_mut().and_then(|tile| tile.varies.take());
        let sized = varies
            .as_ref()
            .is_some_and(|[a, b]| a.len() == d_a && b.len() == d_b);
        if !sized
            || states.len() != cross_product_tiles(n).len()
            || states.iter().any(|tile| tile.varies.is_some())
            || !states.iter().all(|tile| tile.products.sized(d_a, d_b))
        {
            return Err(ShardError::NotThePlan {
                what: "the number or the size of the tiles' cross products, or their columns",
            }
            .into());
        }
        let [varies_a, varies_b] = varies.expect("checked above");
        let products = states.into_iter().map(|tile| tile.products);
        let [aa, bb, ab] = CrossProducts::sum_of(n, (d_a, d_b), products);
        let map_a = subspace_map(aa, &varies_a, q)?;
        let map_b = subspace_map(bb, &varies_b, q)?;
        svcca_of((&map_a, &map_b), ab)
    }
}
