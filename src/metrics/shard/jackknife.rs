//! The jackknives over shards of the O(n·d) metrics ([`gap`], [`mean_pairwise_cosine`],
//! [`relative_gap`], [`align_loss`]), of the uniformities ([`uniform_loss`],
//! [`cross_modal_uniformity`]) and of the contrastive loss ([`contrastive_loss`]). For the
//! O(n·d) metrics, each sample's leave-one-out value needs the sums of every row, so the gap,
//! the cone and the relative gap take two rounds. The first is
//! [`row_sums`](super::row_sums) of each set, merged and finished into
//! [`RowSums`]; every shard is given them and, in the second round, computes one value per row
//! of its tiles (of the same [`Plan::row_sums`] plan). The merged second round finishes into
//! the in-memory [`jackknife`](crate::jackknife)'s value and deviations, the same bits. The
//! alignment needs no first round: its values are the pairs' own distances. The jackknives
//! of the uniformities ([`uniform_loss`], [`cross_modal_uniformity`]) take one round over the
//! tiles of [`Plan::uniform_loss`] or [`Plan::cross_modal_uniformity`] (see
//! [`UniformJackknifeTile`](super::UniformJackknifeTile)). The contrastive loss's
//! ([`contrastive_loss`]) takes two rounds over the tiles of [`Plan::contrastive_loss`]: the
//! loss's own, finished into each row's and column's log-sum-exp and cross-entropy
//! ([`CrossEntropies`](super::CrossEntropies)), then a second pass given them.
//!
//! The second round trusts the sums it is given to be those of its sets: give every shard
//! the merged first round of the same sets. Each tile records a fingerprint of the sums it
//! was given, so that parts of shards given different sums do not finish together
//! ([`ShardError::NotThePlan`]); sums of other sets of the same shape, given to every shard
//! alike, cannot be told from the right ones.
//!
//! # Examples
//!
//! ```
//! use std::ops::Range;
//! use modality_gap::shard::{self, Part, Plan};
//! use modality_gap::{Embeddings, Image, Result, Text, UnitEmbeddings, jackknife};
//!
//! // Three ranks' parts, gathered and merged in rank order (here in one process).
//! fn gathered<S>(plan: &Plan, part: impl Fn(Range<usize>) -> Result<Part<S>>) -> Result<Part<S>> {
//!     let mut whole = part(plan.shard(0, 3)?)?;
//!     for rank in 1..3 {
//!         whole = whole.merge(part(plan.shard(rank, 3)?)?)?;
//!     }
//!     Ok(whole)
//! }
//!
//! let rows = |phase: f64| -> Vec<[f64; 3]> {
//!     (0..5000).map(|i| {
//!         let a = i as f64 * 0.37 + phase;
//!         [a.cos(), a.sin(), 0.3 * (2.0 * a).sin() + 0.5]
//!     }).collect()
//! };
//! let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows(0.0))?)?;
//! let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows(0.4))?)?;
//! let plan = Plan::row_sums(&a)?;
//! // Round 1: each set's row sums, finished, then given to every shard.
//! let sums_a = gathered(&plan, |tiles| shard::row_sums(&plan, &a, tiles))?.finish()?;
//! let sums_b = gathered(&plan, |tiles| shard::row_sums(&plan, &b, tiles))?.finish()?;
//! // Round 2: each row's leave-one-out change.
//! let sums = (&sums_a, &sums_b);
//! let gap = gathered(&plan, |tiles| shard::jackknife::gap(&plan, &a, &b, sums, tiles))?;
//! assert_eq!(gap.finish()?, jackknife::gap(&a, &b)?);
//! # Ok::<(), modality_gap::Error>(())
//! ```

use std::ops::Range;

pub use super::contrastive_jackknife::contrastive_loss;
pub use super::uniform_jackknife::{cross_modal_uniformity, uniform_loss};

use super::sums::{align_pass, row_sums_pass, tile_rows};
use super::{Metric, Part, Pass, Plan, fingerprint};
use crate::metrics::align::distance_power;
use crate::metrics::jackknife::{
    WithinSums, excluded_deviations, gap_deviation, included_bias, included_deviations,
    included_row, least_samples, relative_gap_deviations, within_row,
};
use crate::metrics::stream::{self, RowSums};
use crate::reduce::{RowSum, dot, per_row, sum_over_rows};
use crate::{
    Diagonal, Jackknife, Method, Modality, RelativeGap, Result, Scalar, ShardError, UnitEmbeddings,
    check,
};

/// The state of one tile of a jackknife's second round: a value per row of its rows, in
/// order (three for the relative gap: the matched cosine and each set's sum of cosines), and a
/// fingerprint of the first round's sums it was computed from.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JackknifeTile {
    rows: usize,
    values: Vec<f64>,
    /// FNV-1a of the bits of the first round's totals (0 for the alignment, which has none):
    /// tiles of shards given different first rounds do not finish together.
    first_round: u64,
}

/// The part of [`jackknife::gap`](crate::jackknife::gap)`(a, b)` over the tiles `tiles` of
/// `plan` ([`Plan::row_sums`]`(a)`), given the finished first round: the row sums of `a` and
/// of `b` over the same plan. Each row's value is its leave-one-out change ‖Δ₋ᵢ‖ − ‖Δ‖.
///
/// # Errors
///
/// As [`jackknife::gap`](crate::jackknife::gap); [`ShardError::NotThePlan`] for another plan
/// or for sums of other shapes.
///
/// # Examples
///
/// See [the module](self).
pub fn gap<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    (sums_a, sums_b): (&RowSums<T, A>, &RowSums<T, B>),
    tiles: Range<usize>,
) -> Result<Part<JackknifeTile>> {
    paired_second_round(plan, (a, b), (sums_a, sums_b), &tiles, 2)?;
    let gap = stream::gap(sums_a, sums_b)?;
    let pass = Pass {
        metric: Metric::JackknifeGap,
        parameter: gap.distance().to_bits(),
        ..plan.pass
    };
    let first_round = first_round(&[&sums_a.totals()?, &sums_b.totals()?]);
    Ok(part((pass, first_round), tiles, |rows| {
        let values = row_values(&rows, |i| gap_deviation((a, b), &gap, i));
        a.done_with(rows.clone());
        b.done_with(rows);
        values
    }))
}

/// The part of [`jackknife::mean_pairwise_cosine`](crate::jackknife::mean_pairwise_cosine)`(x,
/// diagonal)` over the tiles `tiles` of `plan` ([`Plan::row_sums`]`(x)`), given the finished
/// first round: the row sums of `x` over the same plan. Each row's value is its sum of
/// cosines with the other rows, uᵢ·s − ‖uᵢ‖² (with the diagonal, its term 2uᵢ·s − ‖uᵢ‖² of
/// the sum over all pairs).
///
/// # Errors
///
/// As [`jackknife::mean_pairwise_cosine`](crate::jackknife::mean_pairwise_cosine);
/// [`ShardError::NotThePlan`] for another plan or for sums of another shape.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Diagonal, Embeddings, Image, UnitEmbeddings, jackknife};
///
/// let rows: Vec<[f32; 2]> = (0..3000).map(|i| [(i as f32).cos(), (i as f32).sin() + 1.0]).collect();
/// let x = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
/// let plan = Plan::row_sums(&x)?;
/// let sums = shard::row_sums(&plan, &x, 0..plan.tiles())?.finish()?;
/// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?].map(|tiles| {
///     shard::jackknife::mean_pairwise_cosine(&plan, &x, Diagonal::Excluded, &sums, tiles)
/// });
/// let cone = first?.merge(second?)?.finish()?;
/// assert_eq!(cone, jackknife::mean_pairwise_cosine(&x, Diagonal::Excluded)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn mean_pairwise_cosine<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    diagonal: Diagonal,
    sums: &RowSums<T, M>,
    tiles: Range<usize>,
) -> Result<Part<JackknifeTile>> {
    second_round(plan, x, &tiles)?;
    check::at_least(least_samples(diagonal), x.len())?;
    check_sums(x, sums)?;
    let totals = sums.totals()?;
    let value = sums.mean_pairwise_cosine(diagonal)?;
    let (metric, groups) = match diagonal {
        Diagonal::Excluded => (Metric::JackknifeConeExcluded, 0),
        Diagonal::Included => (
            Metric::JackknifeConeIncluded,
            included_bias(x.len(), &totals.sum, totals.extras).to_bits(),
        ),
    };
    let pass = Pass {
        metric,
        parameter: value.to_bits(),
        groups,
        ..plan.pass
    };
    Ok(part((pass, first_round(&[&totals])), tiles, |rows| {
        let values = match diagonal {
            Diagonal::Excluded => row_values(&rows, |i| within_row(x, &totals.sum, i)),
            Diagonal::Included => row_values(&rows, |i| included_row(x, &totals.sum, i)),
        };
        x.done_with(rows);
        values
    }))
}

/// The part of [`jackknife::relative_gap`](crate::jackknife::relative_gap)`(a, b)` over the
/// tiles `tiles` of `plan` ([`Plan::row_sums`]`(a)`), given the finished first round: the row
/// sums of `a` and of `b` over the same plan. Each row holds three values: its pair's cosine
/// aᵢ·bᵢ and its sums of cosines with the other rows of its set in A and in B.
///
/// # Errors
///
/// As [`jackknife::relative_gap`](crate::jackknife::relative_gap);
/// [`ShardError::NotThePlan`] for another plan or for sums of other shapes.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, jackknife};
///
/// let rows = |phase: f32| -> Vec<[f32; 2]> {
///     (0..3000).map(|i| [(i as f32 + phase).cos(), (i as f32 + phase).sin() + 1.0]).collect()
/// };
/// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows(0.0))?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows(0.3))?)?;
/// let plan = Plan::row_sums(&a)?;
/// let all = 0..plan.tiles();
/// let sums_a = shard::row_sums(&plan, &a, all.clone())?.finish()?;
/// let sums_b = shard::row_sums(&plan, &b, all.clone())?.finish()?;
/// let rmg = shard::jackknife::relative_gap(&plan, &a, &b, (&sums_a, &sums_b), all)?.finish()?;
/// assert_eq!(rmg, jackknife::relative_gap(&a, &b)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    (sums_a, sums_b): (&RowSums<T, A>, &RowSums<T, B>),
    tiles: Range<usize>,
) -> Result<Part<JackknifeTile>> {
    paired_second_round(plan, (a, b), (sums_a, sums_b), &tiles, 3)?;
    let (totals_a, totals_b) = (sums_a.totals()?, sums_b.totals()?);
    let pass = Pass {
        metric: Metric::JackknifeRelativeGap,
        parameter: sums_a.mean_pairwise_cosine(Diagonal::Excluded)?.to_bits(),
        groups: sums_b.mean_pairwise_cosine(Diagonal::Excluded)?.to_bits(),
        ..plan.pass
    };
    let first_round = first_round(&[&totals_a, &totals_b]);
    Ok(part((pass, first_round), tiles, |rows| {
        let [matched, within_a, within_b] = [
            row_values(&rows, |i| dot(a.row(i), b.row(i))),
            row_values(&rows, |i| within_row(a, &totals_a.sum, i)),
            row_values(&rows, |i| within_row(b, &totals_b.sum, i)),
        ];
        a.done_with(rows.clone());
        b.done_with(rows);
        (matched.into_iter().zip(within_a).zip(within_b))
            .flat_map(|((m, ra), rb)| [m, ra, rb])
            .collect()
    }))
}

/// The part of [`jackknife::align_loss`](crate::jackknife::align_loss)`(a, b, alpha)` over
/// the tiles `tiles` of `plan` ([`Plan::align_loss`]`(a, b, alpha)`), in one round: each
/// row's value is its pair's ‖aᵢ − bᵢ‖^α.
///
/// # Errors
///
/// As [`jackknife::align_loss`](crate::jackknife::align_loss); [`ShardError::NotThePlan`]
/// for another plan.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, jackknife};
///
/// let rows: Vec<[f32; 2]> = (0..3000).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
/// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows[1..].iter().chain(&rows[..1]).copied().collect::<Vec<_>>())?)?;
/// let plan = Plan::align_loss(&a, &b, 2.0)?;
/// let part = shard::jackknife::align_loss(&plan, &a, &b, 0..plan.tiles())?;
/// assert_eq!(part.finish()?, jackknife::align_loss(&a, &b, 2.0)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<JackknifeTile>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    let alpha = f64::from_bits(plan.pass.parameter);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..align_pass(a, b, alpha)
    })?;
    let pass = Pass {
        metric: Metric::JackknifeAlignLoss,
        ..plan.pass
    };
    let power = distance_power::<T>(alpha);
    Ok(part((pass, 0), tiles, |rows| {
        let values = row_values(&rows, |i| power(a.row(i), b.row(i)));
        a.done_with(rows.clone());
        b.done_with(rows);
        values
    }))
}

/// Checks that `tiles` are tiles of `plan` and that it is the [`Plan::row_sums`] plan of a
/// set of `x`'s shape.
fn second_round<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    tiles: &Range<usize>,
) -> Result<()> {
    plan.check_tiles(tiles)?;
    plan.check_pass(row_sums_pass(x, plan.tiles()))
}

/// The checks of [`second_round`] and [`check_sums`] for paired sets of at least `least`
/// pairs.
fn paired_second_round<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    (sums_a, sums_b): (&RowSums<T, A>, &RowSums<T, B>),
    tiles: &Range<usize>,
    least: usize,
) -> Result<()> {
    second_round(plan, a, tiles)?;
    check::paired(a.shape(), b.shape())?;
    check::at_least(least, a.len())?;
    check_sums(a, sums_a)?;
    check_sums(b, sums_b)
}

/// Checks that the first round's sums are of rows of `x`'s shape.
fn check_sums<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    sums: &RowSums<T, M>,
) -> Result<()> {
    if (sums.len(), sums.dim()) == (x.len(), x.dim()) {
        Ok(())
    } else {
        Err(ShardError::NotThePlan {
            what: "the row sums of the first round (of another shape)",
        }
        .into())
    }
}

/// f(i) for the rows `rows`, in order.
fn row_values(rows: &Range<usize>, f: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    per_row(rows.len(), |j| f(rows.start + j))
}

/// The FNV-1a fingerprint of the bits of the first round's totals.
fn first_round(totals: &[&RowSum]) -> u64 {
    let words = totals
        .iter()
        .flat_map(|sums| sums.sum.iter().chain([&sums.extras]));
    fingerprint(words.map(|s| s.to_bits()))
}

/// The part of `pass` over `tiles` from the first round of fingerprint `first_round`, each
/// tile's values `values(its rows)`.
fn part(
    (pass, first_round): (Pass, u64),
    tiles: Range<usize>,
    values: impl Fn(Range<usize>) -> Vec<f64>,
) -> Part<JackknifeTile> {
    let states = tile_rows(pass.shape.0)[tiles.clone()]
        .iter()
        .map(|rows| JackknifeTile {
            rows: rows.len(),
            values: values(rows.clone()),
            first_round,
        })
        .collect();
    Part {
        pass,
        start: tiles.start,
        states,
    }
}

impl Part<JackknifeTile> {
    /// The jackknife of the part's metric from every tile's values, as the in-memory
    /// [`jackknife`](crate::jackknife) of the metric forms it from its rows: the same value
    /// and deviations, to the bit.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of other rows than the plan's or of shards given
    /// different first rounds; [`Error::NonFinite`](crate::Error::NonFinite) for values that
    /// are not finite (a corrupted transfer); for the alignment,
    /// [`Error::Overflow`](crate::Error::Overflow) as [`align_loss`](crate::align_loss).
    ///
    /// # Examples
    ///
    /// See [the module](self).
    pub fn finish(self) -> Result<Jackknife> {
        let metrics = [
            Metric::JackknifeGap,
            Metric::JackknifeConeExcluded,
            Metric::JackknifeConeIncluded,
            Metric::JackknifeRelativeGap,
            Metric::JackknifeAlignLoss,
        ];
        let (pass, states) = self.complete(&metrics)?;
        let n = pass.shape.0;
        let width = match pass.metric {
            Metric::JackknifeRelativeGap => 3,
            _ => 1,
        };
        let plan = tile_rows(n);
        let first_round = states.first().map(|tile| tile.first_round);
        let laid_out = plan.len() == states.len()
            && (plan.iter().zip(&states)).all(|(rows, tile)| {
                tile.rows == rows.len()
                    && tile.values.len() == rows.len() * width
                    && Some(tile.first_round) == first_round
            });
        if !laid_out {
            return Err(ShardError::NotThePlan {
                what: "the rows, the values or the first round of a tile",
            }
            .into());
        }
        let values: Vec<f64> = states.into_iter().flat_map(|tile| tile.values).collect();
        if pass.metric == Metric::JackknifeAlignLoss {
            // As the in-memory loss reports a power of a distance that overflows.
            check::finite_values(&values, 1, |_| {}).map_err(|_| crate::Error::Overflow {
                quantity: "the alignment loss",
            })?;
        }
        check::finite_scores(&values)?;
        let (first, second) = (f64::from_bits(pass.parameter), f64::from_bits(pass.groups));
        let deviations = |values| Jackknife::from_deviations(first, values, Method::Jackknife);
        match pass.metric {
            Metric::JackknifeGap => deviations(values),
            Metric::JackknifeConeExcluded => deviations(excluded_deviations(values)),
            Metric::JackknifeConeIncluded => deviations(included_deviations(&values, second)),
            Metric::JackknifeRelativeGap => {
                let column =
                    |k: usize| -> Vec<f64> { values.iter().skip(k).step_by(3).copied().collect() };
                let matched = column(0);
                let mean = sum_over_rows(n, |i| matched[i]) / n as f64;
                let value = RelativeGap::from_cosines(mean, first, second).value;
                let within = |k| WithinSums::of_rows(column(k));
                relative_gap_deviations(value, &matched, within(1), within(2))
            }
            _ => Jackknife::of_mean(&values),
        }
    }
}
