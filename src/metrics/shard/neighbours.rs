//! The k-NN alignment metrics over shards: each set's top-(k + 1) lists within itself, tile by
//! tile, A's tiles first and then B's.

use std::ops::Range;

use super::tiles::TopKTile;
use super::{Metric, Part, Pass, Plan};
use crate::kernel::{self, Sets, Tiled};
use crate::metrics::similarity::{
    Neighbours, cknna_count, cknna_of, mutual_knn_count, mutual_knn_of,
};
use crate::{Embeddings, Modality, Result, Scalar, ShardError, check};

/// The state of one tile of a k-NN alignment ([`mutual_knn`](crate::mutual_knn),
/// [`cknna`](crate::cknna)): the k + 1 best candidates of each of its rows within its own set.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NeighboursTile(TopKTile);

impl Plan {
    /// The plan of [`mutual_knn`](crate::mutual_knn)`(a, b, k)`: the tiles of A's top-(k + 1)
    /// pass within itself, then B's.
    ///
    /// # Errors
    ///
    /// As [`mutual_knn`](crate::mutual_knn), and [`Error::Overflow`](crate::Error::Overflow)
    /// for B of 2³⁷ or more dimensions.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, cknna, mutual_knn};
    ///
    /// let a = Embeddings::<f32, Image>::from_rows(&(0..900).map(|i| [(i as f32).sin(), (0.3 * i as f32).cos()]).collect::<Vec<_>>())?;
    /// let b = Embeddings::<f32, Text>::from_rows(&(0..900).map(|i| [(i as f32).sin(), (0.7 * i as f32).cos(), 0.1]).collect::<Vec<_>>())?;
    /// let plan = Plan::mutual_knn(&a, &b, 10)?;
    /// let halves = [plan.shard(0, 2)?, plan.shard(1, 2)?];
    /// let part = |tiles| shard::neighbours(&plan, &a, &b, tiles);
    /// let whole = part(halves[0].clone())?.merge(part(halves[1].clone())?)?;
    /// assert_eq!(whole.finish()?.to_bits(), mutual_knn(&a, &b, 10)?.to_bits());
    /// // CKNNA from the same lists, with a plan of its own.
    /// let plan = Plan::cknna(&a, &b, 10)?;
    /// let whole = shard::neighbours(&plan, &a, &b, 0..plan.tiles())?;
    /// assert_eq!(whole.finish()?.to_bits(), cknna(&a, &b, 10)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn mutual_knn<T: Scalar, A: Modality, B: Modality>(
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        k: usize,
    ) -> Result<Self> {
        mutual_knn_count(a.len(), b.len(), k)?;
        check_dim_b(b.dim())?;
        Ok(neighbours_plan(Metric::MutualKnn, a, b, k))
    }

    /// The plan of [`cknna`](crate::cknna)`(a, b, k)`, as [`Plan::mutual_knn`].
    ///
    /// # Errors
    ///
    /// The checks of [`cknna`](crate::cknna) on n and k (a set without variance is found
    /// when the part is finished), and [`Error::Overflow`](crate::Error::Overflow) for B of
    /// 2³⁷ or more dimensions.
    ///
    /// # Examples
    ///
    /// See [`Plan::mutual_knn`].
    pub fn cknna<T: Scalar, A: Modality, B: Modality>(
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        k: usize,
    ) -> Result<Self> {
        cknna_count(a.len(), b.len(), k)?;
        check_dim_b(b.dim())?;
        Ok(neighbours_plan(Metric::Cknna, a, b, k))
    }
}

/// The plan of a k-NN alignment: A's tiles, then B's.
fn neighbours_plan<T: Scalar, A: Modality, B: Modality>(
    metric: Metric,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
) -> Plan {
    let mut tile_pairs = kernel::tile_pairs(one(a), Tiled::TopK);
    tile_pairs.extend(kernel::tile_pairs(one(b), Tiled::TopK));
    Plan {
        pass: neighbours_pass(metric, a, b, k, tile_pairs.len()),
        tile_pairs,
    }
}

/// One set as both sides of a pass.
fn one<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Sets<'_> {
    Sets::one(x.as_slice(), x.dim())
}

fn neighbours_pass<T: Scalar, A: Modality, B: Modality>(
    metric: Metric,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
    tiles: usize,
) -> Pass {
    Pass {
        metric,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: parameter(k, b.dim()),
        groups: 0,
        tiles,
    }
}

/// The bits of a k-NN pass's parameter that hold k (k < 2²⁷: n·(k + 1) ≤ 2²⁷); B's dimension
/// is above them, below 2³⁷.
const K_BITS: u32 = 27;

/// A k-NN pass's parameter: k in the low [`K_BITS`] bits, B's dimension above.
fn parameter(k: usize, dim_b: usize) -> u64 {
    k as u64 | (dim_b as u64) << K_BITS
}

/// (k, B's dimension) of a k-NN pass's parameter.
pub(super) fn k_and_dim(parameter: u64) -> (usize, usize) {
    let k = parameter & ((1 << K_BITS) - 1);
    (k as usize, (parameter >> K_BITS) as usize)
}

/// The checks of a k-NN plan beyond the metric's: B's dimension fits the parameter.
fn check_dim_b(dim_b: usize) -> Result<()> {
    check::at_most(
        "the dimension of B in a k-NN plan (below 2^37)",
        dim_b as u64,
        (1 << (64 - K_BITS)) - 1,
    )
}

/// Whether a plan of `metric` could have made a pass of n rows of A and m of B with this
/// parameter.
pub(super) fn plausible(metric: Metric, (n, m): (usize, usize), parameter: u64) -> bool {
    let (k, dim_b) = k_and_dim(parameter);
    let counted = match metric {
        Metric::Cknna => cknna_count(n, m, k),
        _ => mutual_knn_count(n, m, k),
    };
    dim_b >= 1 && counted.is_ok()
}

/// The part of a k-NN alignment over the tiles `tiles` of `plan`, made with
/// [`Plan::mutual_knn`] or [`Plan::cknna`]`(a, b, k)`: the lists of A's rows in the plan's
/// first tiles, of B's in the rest.
///
/// # Errors
///
/// [`ShardError::Tiles`] for tiles outside the plan;
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths;
/// [`ShardError::NotThePlan`] when the sets or k are not the plan's.
///
/// # Examples
///
/// See [`Plan::mutual_knn`].
pub fn neighbours<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<NeighboursTile>> {
    plan.check_tiles(&tiles)?;
    check::same_len(a.len(), b.len())?;
    let metric = match plan.pass.metric {
        metric @ (Metric::MutualKnn | Metric::Cknna) => metric,
        _ => return Err(not_the_plan()),
    };
    let (k, _) = k_and_dim(plan.pass.parameter);
    plan.check_pass(neighbours_pass(metric, a, b, k, plan.tiles()))?;
    let tiles_of_a = kernel::tile_pairs(one(a), Tiled::TopK).len();
    let of_a = tiles.start.min(tiles_of_a)..tiles.end.min(tiles_of_a);
    let of_b = tiles.start.max(tiles_of_a) - tiles_of_a..tiles.end.max(tiles_of_a) - tiles_of_a;
    let mut lists = kernel::top_k_tiles(one(a), k + 1, of_a);
    lists.extend(kernel::top_k_tiles(one(b), k + 1, of_b));
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states: (lists.into_iter())
            .map(|(indices, similarities)| {
                NeighboursTile(TopKTile {
                    indices,
                    similarities,
                })
            })
            .collect(),
    })
}

fn not_the_plan() -> crate::Error {
    ShardError::NotThePlan {
        what: "the metric, the shapes, the element type or the parameter",
    }
    .into()
}

impl Part<NeighboursTile> {
    /// [`mutual_knn`](crate::mutual_knn) or [`cknna`](crate::cknna), as the plan says, from
    /// every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for lists of sizes or indices no plan makes (a corrupted
    /// transfer); the errors of [`cknna`](crate::cknna) on its lists
    /// ([`Error::ZeroVariance`](crate::Error::ZeroVariance),
    /// [`Error::Overflow`](crate::Error::Overflow)).
    ///
    /// # Examples
    ///
    /// See [`Plan::mutual_knn`].
    pub fn finish(self) -> Result<f64> {
        let (pass, states) = self.complete(&[Metric::MutualKnn, Metric::Cknna])?;
        if !matches!(pass.metric, Metric::MutualKnn | Metric::Cknna) {
            return Err(not_the_plan());
        }
        let n = pass.shape.0;
        let (k, _) = k_and_dim(pass.parameter);
        let per_set = n * (k + 1); // at most 2²⁷: the pass was checked
        let (mut indices, mut similarities) = (Vec::new(), Vec::new());
        let mut set_ends_at_a_tile = false;
        for NeighboursTile(tile) in states {
            // Whole rows of lists, and A's last row at the end of a tile.
            let whole_rows = tile.indices.len() % (k + 1) == 0;
            if tile.indices.len() != tile.similarities.len() || !whole_rows {
                return Err(wrong_lists());
            }
            indices.extend(tile.indices);
            similarities.extend(tile.similarities);
            set_ends_at_a_tile |= indices.len() == per_set;
        }
        if indices.len() != 2 * per_set || !set_ends_at_a_tile || indices.iter().any(|&j| j >= n) {
            return Err(wrong_lists());
        }
        let (a_indices, b_indices) = indices.split_at(per_set);
        let (a_values, b_values) = similarities.split_at(per_set);
        let in_a = Neighbours::from_lists(a_indices, a_values, k);
        let in_b = Neighbours::from_lists(b_indices, b_values, k);
        match pass.metric {
            Metric::Cknna => cknna_of(&in_a, &in_b),
            _ => Ok(mutual_knn_of(&in_a, &in_b)),
        }
    }
}

fn wrong_lists() -> crate::Error {
    ShardError::NotThePlan {
        what: "the size of a tile's lists",
    }
    .into()
}
