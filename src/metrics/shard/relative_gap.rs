//! The tiles of the relative modality gap: runs of 2048-pair chunks, each with the row sums
//! of its chunks of both sets and the sums of its pairs' cosines.

use std::ops::Range;

use super::sums::{laid_out, pair_chunk_totals, plausible, row_chunk_sums, row_sum_of, tile_rows};
use super::{Metric, Part, Pass, Plan};
use crate::metrics::cone::cone_from_sums;
use crate::reduce::{ChunkTotal, dot};
use crate::{Diagonal, Modality, RelativeGap, Result, Scalar, ShardError, UnitEmbeddings, check};

/// The state of one tile of the relative gap: Σ aᵢ and Σ ‖aᵢ‖² over each of its chunks of
/// 2048 rows of A, the same of B, and Σ aᵢ·bᵢ over each chunk of its pairs.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RelativeGapTile {
    a: Vec<(Vec<f64>, f64)>,
    b: Vec<(Vec<f64>, f64)>,
    matched: Vec<f64>,
    rows: usize,
}

impl Plan {
    /// The plan of [`relative_gap`](crate::relative_gap)`(a, b)`: tiles of whole chunks of
    /// 2048 pairs, at most 64, as [`Plan::row_sums`]. Each tile sums its rows of each set
    /// (the within-set terms, as [`Plan::row_sums`] does) and its pairs' cosines (the matched
    /// term).
    ///
    /// # Errors
    ///
    /// As [`relative_gap`](crate::relative_gap).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, relative_gap};
    ///
    /// let rows: Vec<[f32; 2]> = (0..9000).map(|i| [(i as f32).cos(), (i as f32).sin() + 1.5]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?.select(&(1..9000).chain([0]).collect::<Vec<_>>())?)?;
    /// let plan = Plan::relative_gap(&a, &b)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::relative_gap(&plan, &a, &b, tiles));
    /// let rmg = first?.merge(second?)?.finish()?;
    /// assert_eq!(rmg, relative_gap(&a, &b)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        check::at_least(2, a.len())?;
        Ok(Self::of_chunks(relative_gap_pass(a, b), a.len()))
    }
}

fn relative_gap_pass<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Pass {
    Pass {
        metric: Metric::RelativeGap,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: 0,
        groups: 0,
        tiles: 0,
    }
}

/// The part of [`relative_gap`](crate::relative_gap) over the tiles `tiles` of `plan`, made
/// with [`Plan::relative_gap`]`(a, b)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired; then as [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::relative_gap`].
pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<RelativeGapTile>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..relative_gap_pass(a, b)
    })?;
    let states = tile_rows(a.len())[tiles.clone()]
        .iter()
        .map(|rows| RelativeGapTile {
            a: row_chunk_sums(a, rows),
            b: row_chunk_sums(b, rows),
            matched: pair_chunk_totals(a, b, rows, dot),
            rows: rows.len(),
        })
        .collect();
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

impl Part<RelativeGapTile> {
    /// [`relative_gap`](crate::relative_gap), from every tile: each set's chunk sums added in
    /// order into its mean cosine between distinct rows, and the pairs' chunk sums into the
    /// mean matched cosine, as the in-memory metric adds them, so the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of other rows than the plan's, a negative sum of
    /// squared norms, or totals that are not finite (a corrupted transfer).
    ///
    /// # Examples
    ///
    /// See [`Plan::relative_gap`].
    pub fn finish(self) -> Result<RelativeGap> {
        let (pass, states) = self.complete(&[Metric::RelativeGap])?;
        let (n, _, d, _) = pass.shape;
        let layout = |set: fn(&RelativeGapTile) -> usize| {
            laid_out(n, states.iter().map(move |tile| (tile.rows, set(tile))))
        };
        let laid_out =
            layout(|t| t.a.len()) && layout(|t| t.b.len()) && layout(|t| t.matched.len());
        let sums = states
            .iter()
            .all(|tile| plausible(&tile.a, d) && plausible(&tile.b, d));
        let not_the_plan = ShardError::NotThePlan {
            what: "the pairs or the sums of a tile",
        };
        if !(laid_out && sums) {
            return Err(not_the_plan.into());
        }
        let mut matched = ChunkTotal::new();
        matched.add_chunks(states.iter().flat_map(|tile| tile.matched.iter().copied()));
        let within = |chunks: Vec<(Vec<f64>, f64)>| match row_sum_of(d, chunks) {
            Some(sums) => cone_from_sums(n, &sums.sum, sums.extras, Diagonal::Excluded),
            None => Err(not_the_plan.clone().into()),
        };
        let (a, b): (Vec<_>, Vec<_>) = states.into_iter().map(|tile| (tile.a, tile.b)).unzip();
        let (within_a, within_b) = (
            within(a.into_iter().flatten().collect())?,
            within(b.into_iter().flatten().collect())?,
        );
        // Finite, as a mean of cosines of finite rows is.
        let matched = matched.value() / n as f64;
        if !matched.is_finite() {
            return Err(not_the_plan.into());
        }
        Ok(RelativeGap::from_cosines(matched, within_a, within_b))
    }
}
