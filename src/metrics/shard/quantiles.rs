//! The two rounds of the exact cosine quantiles over shards: counts in 2¹⁶ fine bins, then
//! the similarities of the bins that hold the asked order statistics.

use std::ops::Range;

use super::tiles::sets;
use super::{Metric, Part, Pass, Plan, fingerprint_indices};
use crate::kernel::{self, Sets, Tiled};
use crate::metrics::quantiles::{SELECT_BINS, Selection};
use crate::{Modality, Result, Scalar, ShardError, UnitEmbeddings, check};

/// The state of one tile of the first round of the exact quantiles: its pairs' counts in the
/// 2¹⁶ equal bins of [−1, 1], from the first bin it reaches to the last (the similarities of
/// one tile span few of them).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QuantileCountsTile {
    first: usize,
    counts: Vec<u64>,
}

/// The state of one tile of the second round of the exact quantiles: its pairs' similarities
/// in the bins of a [`QuantileSelection`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QuantileValuesTile {
    values: Vec<f64>,
}

/// What the second round of the exact quantiles keeps, from the first round's counts
/// ([`Part::<QuantileCountsTile>::finish`]): the asked quantiles, the ranks of their order
/// statistics among all pairs, and the bins that hold them. Every shard of the second round
/// needs it (a few bytes per quantile: broadcast it).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QuantileSelection {
    /// The first round's pass.
    pass: Pass,
    selection: Selection,
}

impl QuantileSelection {
    /// Checks that the selection is of the first round of the pass `pass` and could have come
    /// from its counts (a selection from outside bytes may hold anything).
    fn check(&self, pass: Pass) -> Result<()> {
        let fits = self.pass == pass
            && self.selection.well_formed()
            && u128::from(self.selection.total()) == pairs(&self.pass);
        match fits {
            true => Ok(()),
            false => Err(ShardError::NotThePlan {
                what: "the selection (of another pass, or none a plan makes)",
            }
            .into()),
        }
    }

    /// The pass of the second round's parts: the first round's, named apart and holding a
    /// fingerprint of the wanted bins, so that parts of two selections refuse to merge.
    fn values_pass(&self) -> Pass {
        let bins: Vec<usize> = self.selection.bins().collect();
        Pass {
            metric: match self.pass.metric {
                Metric::QuantileCountsWithin => Metric::QuantileValuesWithin,
                _ => Metric::QuantileValuesBetween,
            },
            groups: fingerprint_indices(&bins),
            ..self.pass
        }
    }
}

impl Plan {
    /// The plan of [`cosine_quantiles_within`](crate::cosine_quantiles_within)`(x, qs)`, of
    /// its two rounds: the tiles of a [`CosineHistogram`](crate::CosineHistogram) of 2¹⁶ bins
    /// (at most 128). The first round counts each tile's pairs in the bins
    /// ([`cosine_quantile_counts_within`]); its merged part gives, for the asked quantiles,
    /// the [`QuantileSelection`] of the bins that hold their order statistics; the second
    /// round keeps each tile's pairs in those bins ([`cosine_quantile_values_within`]), and
    /// its merged part gives the quantiles: the bits of the metric.
    ///
    /// # Errors
    ///
    /// As [`cosine_quantiles_within`](crate::cosine_quantiles_within) (the quantiles' checks
    /// come with the selection).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, UnitEmbeddings, cosine_quantiles_within};
    ///
    /// let rows: Vec<[f64; 3]> = (0..500).map(|i| [(i as f64).cos(), (i as f64).sin(), 0.5]).collect();
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
    /// let plan = Plan::cosine_quantiles_within(&x)?;
    /// let halves = [plan.shard(0, 2)?, plan.shard(1, 2)?];
    /// let qs = [0.05, 0.5, 0.95];
    /// // Round one: counts per bin, merged, and the bins that the quantiles need.
    /// let [first, second] = halves.clone().map(|tiles| shard::cosine_quantile_counts_within(&plan, &x, tiles));
    /// let selection = first?.merge(second?)?.finish(&qs)?;
    /// // Round two: the similarities in those bins, merged and sorted.
    /// let [first, second] = halves.map(|tiles| shard::cosine_quantile_values_within(&plan, &selection, &x, tiles));
    /// let quantiles = first?.merge(second?)?.finish(&selection)?;
    /// assert_eq!(quantiles, cosine_quantiles_within(&x, &qs)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cosine_quantiles_within<T: Scalar, M: Modality>(
        x: &UnitEmbeddings<T, M>,
    ) -> Result<Self> {
        check::at_least(2, x.len())?;
        Ok(Self::of_quantiles::<T>(
            sets(x, x),
            true,
            (x.len(), x.len(), x.dim()),
        ))
    }

    /// The plan of [`cosine_quantiles_between`](crate::cosine_quantiles_between)`(a, b, qs)`,
    /// of its two rounds, as [`Plan::cosine_quantiles_within`].
    ///
    /// # Errors
    ///
    /// As [`cosine_quantiles_between`](crate::cosine_quantiles_between).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, cosine_quantiles_between};
    ///
    /// let rows: Vec<[f32; 2]> = (0..300).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows[..100])?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let plan = Plan::cosine_quantiles_between(&a, &b)?;
    /// let all = 0..plan.tiles();
    /// let selection = shard::cosine_quantile_counts_between(&plan, &a, &b, all.clone())?.finish(&[0.5])?;
    /// let median = shard::cosine_quantile_values_between(&plan, &selection, &a, &b, all)?.finish(&selection)?;
    /// assert_eq!(median, cosine_quantiles_between(&a, &b, &[0.5])?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cosine_quantiles_between<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Result<Self> {
        check::comparable(a.shape(), b.shape())?;
        Ok(Self::of_quantiles::<T>(
            sets(a, b),
            false,
            (a.len(), b.len(), a.dim()),
        ))
    }

    fn of_quantiles<T: Scalar>(sets: Sets<'_>, within: bool, shape: (usize, usize, usize)) -> Self {
        let bins = SELECT_BINS;
        let tile_pairs = kernel::tile_pairs(sets, Tiled::Histogram { within, bins });
        Self {
            pass: quantiles_pass::<T>(within, shape, tile_pairs.len()),
            tile_pairs,
        }
    }
}

/// The pairs of a pass of the exact quantiles: i < j within one set, every pair between two.
fn pairs(pass: &Pass) -> u128 {
    let (n, m, ..) = pass.shape;
    let (n, m) = (n as u128, m as u128);
    match pass.metric {
        Metric::QuantileCountsWithin | Metric::QuantileValuesWithin => n * (n - 1) / 2,
        _ => n * m,
    }
}

/// The first round's pass of the exact quantiles within one set or between two.
fn quantiles_pass<T: Scalar>(within: bool, (n, m, d): (usize, usize, usize), tiles: usize) -> Pass {
    Pass {
        metric: match within {
            true => Metric::QuantileCountsWithin,
            false => Metric::QuantileCountsBetween,
        },
        shape: (n, m, d, size_of::<T>()),
        parameter: SELECT_BINS as u64,
        groups: 0,
        tiles,
    }
}

/// The first round of [`cosine_quantiles_within`](crate::cosine_quantiles_within) over the
/// tiles `tiles` of `plan`, made with [`Plan::cosine_quantiles_within`]`(x)`: each tile's
/// counts in 2¹⁶ bins.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::cosine_quantiles_within`].
pub fn cosine_quantile_counts_within<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<QuantileCountsTile>> {
    counts_part::<T>(plan, sets(x, x), true, (x.len(), x.len(), x.dim()), tiles)
}

/// The first round of [`cosine_quantiles_between`](crate::cosine_quantiles_between) over
/// the tiles `tiles` of `plan`, made with [`Plan::cosine_quantiles_between`]`(a, b)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::cosine_quantiles_between`].
pub fn cosine_quantile_counts_between<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<QuantileCountsTile>> {
    counts_part::<T>(plan, sets(a, b), false, (a.len(), b.len(), a.dim()), tiles)
}

fn counts_part<T: Scalar>(
    plan: &Plan,
    sets: Sets<'_>,
    within: bool,
    shape: (usize, usize, usize),
    tiles: Range<usize>,
) -> Result<Part<QuantileCountsTile>> {
    plan.check_tiles(&tiles)?;
    plan.check_pass(quantiles_pass::<T>(within, shape, plan.tiles()))?;
    let counts = kernel::histogram_tiles(sets, within, (SELECT_BINS, 0.0), tiles.clone());
    let span = |counts: Vec<u64>| {
        let first = counts.iter().position(|&c| c > 0).unwrap_or(0);
        let end = counts
            .iter()
            .rposition(|&c| c > 0)
            .map_or(first, |last| last + 1);
        QuantileCountsTile {
            first,
            counts: counts[first..end].to_vec(),
        }
    };
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states: counts.into_iter().map(|tile| span(tile.counts)).collect(),
    })
}

impl Part<QuantileCountsTile> {
    /// The selection of the quantiles `qs` (each in [0, 1]) from every tile's counts: which
    /// bins the second round keeps, and the ranks of the order statistics in them.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for counts past the last bin or that do not add up to the
    /// pass's pairs (a corrupted transfer); as
    /// [`cosine_quantiles_within`](crate::cosine_quantiles_within) for `qs` and for bins
    /// that hold too many pairs.
    ///
    /// # Examples
    ///
    /// See [`Plan::cosine_quantiles_within`].
    pub fn finish(self, qs: &[f64]) -> Result<QuantileSelection> {
        let metrics = [Metric::QuantileCountsWithin, Metric::QuantileCountsBetween];
        let (pass, states) = self.complete(&metrics)?;
        let not_the_plan = ShardError::NotThePlan {
            what: "the counts of a tile",
        };
        let mut counts = vec![0u64; SELECT_BINS];
        let mut total = 0u64;
        for tile in &states {
            let end = tile.first.checked_add(tile.counts.len());
            let Some(bins) = end.and_then(|end| counts.get_mut(tile.first..end)) else {
                return Err(not_the_plan.into());
            };
            for (sum, &c) in bins.iter_mut().zip(&tile.counts) {
                match (sum.checked_add(c), total.checked_add(c)) {
                    (Some(s), Some(t)) => (*sum, total) = (s, t),
                    _ => return Err(not_the_plan.into()),
                }
            }
        }
        if u128::from(total) != pairs(&pass) {
            return Err(not_the_plan.into());
        }
        Ok(QuantileSelection {
            pass,
            selection: Selection::of(&counts, qs)?,
        })
    }
}

/// The second round of [`cosine_quantiles_within`](crate::cosine_quantiles_within) over the
/// tiles `tiles` of `plan`, made with [`Plan::cosine_quantiles_within`]`(x)`: each tile's
/// similarities in the bins of `selection`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss); [`ShardError::NotThePlan`] for the selection
/// of another plan.
///
/// # Examples
///
/// See [`Plan::cosine_quantiles_within`].
pub fn cosine_quantile_values_within<T: Scalar, M: Modality>(
    plan: &Plan,
    selection: &QuantileSelection,
    x: &UnitEmbeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<QuantileValuesTile>> {
    let shape = (x.len(), x.len(), x.dim());
    values_part::<T>((plan, selection), sets(x, x), true, shape, tiles)
}

/// The second round of [`cosine_quantiles_between`](crate::cosine_quantiles_between) over
/// the tiles `tiles` of `plan`, made with [`Plan::cosine_quantiles_between`]`(a, b)`.
///
/// # Errors
///
/// As [`cosine_quantile_values_within`].
///
/// # Examples
///
/// See [`Plan::cosine_quantiles_between`].
pub fn cosine_quantile_values_between<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    selection: &QuantileSelection,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<QuantileValuesTile>> {
    let shape = (a.len(), b.len(), a.dim());
    values_part::<T>((plan, selection), sets(a, b), false, shape, tiles)
}

fn values_part<T: Scalar>(
    (plan, selection): (&Plan, &QuantileSelection),
    sets: Sets<'_>,
    within: bool,
    shape: (usize, usize, usize),
    tiles: Range<usize>,
) -> Result<Part<QuantileValuesTile>> {
    plan.check_tiles(&tiles)?;
    plan.check_pass(quantiles_pass::<T>(within, shape, plan.tiles()))?;
    selection.check(plan.pass)?;
    let wanted = selection.selection.wanted();
    let values = kernel::values_in_bins_tiles(sets, within, &wanted, tiles.clone());
    Ok(Part {
        pass: selection.values_pass(),
        start: tiles.start,
        states: (values.into_iter())
            .map(|values| QuantileValuesTile { values })
            .collect(),
    })
}

impl Part<QuantileValuesTile> {
    /// The quantiles of `selection` (the first round's, from which every tile's values came),
    /// from every tile: the bits of
    /// [`cosine_quantiles_within`](crate::cosine_quantiles_within) or
    /// [`cosine_quantiles_between`](crate::cosine_quantiles_between).
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for values of another selection, or that do not fill its
    /// bins as its counts say (a corrupted transfer).
    ///
    /// # Examples
    ///
    /// See [`Plan::cosine_quantiles_within`].
    pub fn finish(self, selection: &QuantileSelection) -> Result<Vec<f64>> {
        let metrics = [Metric::QuantileValuesWithin, Metric::QuantileValuesBetween];
        let (pass, states) = self.complete(&metrics)?;
        let not_the_plan = ShardError::NotThePlan {
            what: "the selection, or the values of a tile",
        };
        if pass != selection.values_pass() {
            return Err(not_the_plan.into());
        }
        selection.check(selection.pass)?;
        let values = states.into_iter().flat_map(|tile| tile.values).collect();
        (selection.selection.quantiles(values)).ok_or_else(|| not_the_plan.into())
    }
}
