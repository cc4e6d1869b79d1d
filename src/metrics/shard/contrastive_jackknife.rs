//! The jackknife of the contrastive loss over shards
//! ([`jackknife::contrastive_loss`](crate::jackknife::contrastive_loss)), in two rounds over
//! the tiles of [`Plan::contrastive_loss`].
//!
//! The in-memory jackknife takes two passes: the loss's own, which keeps every row's and
//! column's log-sum-exp, and a second that, given them, sums what leaving each sample out
//! takes from the other rows' and columns' log-sum-exps. Over shards, the first round is
//! [`shard::contrastive_loss`](super::contrastive_loss), merged and finished by
//! [`Part::cross_entropies`] into [`CrossEntropies`]: each row's and column's log-sum-exp
//! and cross-entropy, 32·n bytes. Every shard is given them and computes its tiles of the
//! second pass ([`contrastive_loss`]): a tile holds two sums for each of its rows and
//! columns, and its few shares above 1/128. The merged second round finishes into the
//! in-memory jackknife's value and deviations, to the bit.

use std::marker::PhantomData;
use std::ops::Range;

use super::contrastive::check_plan;
use super::tiles::sets;
use super::{Metric, Part, Pass, Plan, fingerprint};
use crate::kernel::{self, LeftOutTile};
use crate::metrics::contrastive::dot_bound;
use crate::metrics::jackknife::contrastive_from_left_out;
use crate::{
    Error, Jackknife, Method, Modality, Result, Scalar, ShardError, UnitEmbeddings, check,
};

/// The largest spread 2s·M + ln n of the logits (scale s, every |aᵢ·bⱼ| ≤ M) for which the
/// sharded jackknife runs: every share of a row or column is then above e^(−640), so no rest
/// underflows (below 1e-280), which in memory is recomputed by a pass of the row itself.
const MAX_SPREAD: f64 = 640.0;

/// Every row's and column's log-sum-exp and cross-entropy of the
/// [`contrastive_loss`](crate::contrastive_loss) of n pairs: the first round of its jackknife
/// over shards, made by [`Part::cross_entropies`] from every tile of
/// [`shard::contrastive_loss`](super::contrastive_loss), and given to every shard.
///
/// # Examples
///
/// See [`contrastive_loss`].
pub struct CrossEntropies<A: Modality, B: Modality> {
    /// The pass of the first round's plan.
    pub(super) pass: Pass,
    pub(super) values: kernel::CrossEntropies,
    pub(super) modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(CrossEntropies { pass, values });

/// The state of one tile of the second round of the contrastive loss's jackknife: for each
/// of its rows and of its panel's columns, Σ log(1 − p) over the shares p ≤ 1/128 that its
/// other samples hold of the row's (column's) log-sum-exp, the sum of its shares up to 3/4,
/// and its shares above 1/128; the cross-entropies of its rows in the tiles of the first
/// panel and of its columns in those of the first task; and a fingerprint of the first round
/// it was given.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct ContrastiveJackknifeTile<A: Modality, B: Modality> {
    tile: LeftOutTile,
    /// FNV-1a of the bits of the first round: tiles of shards given different first rounds
    /// do not finish together.
    first_round: u64,
    modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(ContrastiveJackknifeTile { tile, first_round });

/// The part of [`jackknife::contrastive_loss`](crate::jackknife::contrastive_loss)`(a, b,
/// temperature)` over the tiles `tiles` of `plan` ([`Plan::contrastive_loss`]`(a, b,
/// temperature)`), given the finished first round: [`Part::cross_entropies`] of
/// [`shard::contrastive_loss`](super::contrastive_loss) over the same plan.
///
/// # Errors
///
/// As [`shard::contrastive_loss`](super::contrastive_loss);
/// [`Error::TooFewSamples`] for n < 3; [`ShardError::NotThePlan`] for a first round of
/// another plan; [`Error::InvalidParameter`] for a temperature so low that a share of some
/// row's or column's log-sum-exp may fall below e^(−640): 2s·M + ln n > 640, for the logit
/// scale s = 1/τ and M the largest ‖aᵢ‖·‖bⱼ‖ (τ ≥ 1/300 always qualifies for unit rows, up to
/// 10¹¹ pairs). The in-memory jackknife then recomputes a row whose rest underflows by a
/// pass of the row itself, which a merge of sums cannot.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, Temperature, Text, UnitEmbeddings, jackknife};
///
/// let rows = |phase: f64| -> Vec<[f64; 3]> {
///     (0..3000).map(|i| {
///         let a = i as f64 * 0.37 + phase;
///         [a.cos(), a.sin(), 0.3 * (2.0 * a).sin()]
///     }).collect()
/// };
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows(0.0))?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows(0.1))?)?;
/// let tau = Temperature::CLIP;
/// let plan = Plan::contrastive_loss(&a, &b, tau)?;
/// let shards = [plan.shard(0, 2)?, plan.shard(1, 2)?];
/// // Round 1: the loss's own tiles, merged, finished into the cross-entropies, which every
/// // shard is then given (an MPI broadcast).
/// let [first, second] = shards.clone().map(|tiles| shard::contrastive_loss(&plan, &a, &b, tiles));
/// let cross_entropies = first?.merge(second?)?.cross_entropies()?;
/// // Round 2: each shard's tiles of the second pass.
/// let [first, second] = shards.map(|tiles| {
///     shard::jackknife::contrastive_loss(&plan, &a, &b, &cross_entropies, tiles)
/// });
/// let jackknife = first?.merge(second?)?.finish()?;
/// assert_eq!(jackknife, jackknife::contrastive_loss(&a, &b, tau)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    first: &CrossEntropies<A, B>,
    tiles: Range<usize>,
) -> Result<Part<ContrastiveJackknifeTile<A, B>>> {
    let scale = check_plan(plan, (a, b), &tiles)?;
    check::at_least(3, a.len())?;
    if first.pass != plan.pass {
        return Err(ShardError::NotThePlan {
            what: "the first round (the cross-entropies of another plan)",
        }
        .into());
    }
    let dot_bound = dot_bound(a, b);
    let spread = 2.0 * scale * dot_bound + (a.len() as f64).ln();
    if spread > MAX_SPREAD {
        return Err(Error::InvalidParameter {
            name: "temperature",
            value: 1.0 / scale,
            requirement: "high enough that every share of a log-sum-exp exceeds e^(-640) \
                (2·max|a·b|/τ + ln n ≤ 640; τ ≥ 1/300 for unit rows) for a sharded jackknife",
        });
    }
    let values = &first.values;
    let bits = (values.row_lse.iter())
        .chain(&values.col_lse)
        .chain(&values.row_ce)
        .chain(&values.col_ce)
        .map(|v| v.to_bits());
    let first_round = fingerprint(bits);
    let states =
        kernel::left_out_tiles(sets(a, b), (scale, dot_bound), values, tiles.clone()).into_iter();
    Ok(Part {
        pass: Pass {
            metric: Metric::JackknifeContrastiveLoss,
            ..plan.pass
        },
        start: tiles.start,
        states: states
            .map(|tile| ContrastiveJackknifeTile {
                tile,
                first_round,
                modalities: PhantomData,
            })
            .collect(),
    })
}

impl<A: Modality, B: Modality> Part<ContrastiveJackknifeTile<A, B>> {
    /// The jackknife of [`contrastive_loss`](crate::contrastive_loss) from every tile of its
    /// second round: the in-memory
    /// [`jackknife::contrastive_loss`](crate::jackknife::contrastive_loss)'s value and
    /// deviations, to the bit.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of shards given different first rounds, or whose
    /// states have the wrong size or sums that no pass makes (a corrupted transfer); as the
    /// in-memory jackknife.
    ///
    /// # Examples
    ///
    /// See [`contrastive_loss`].
    pub fn finish(self) -> Result<Jackknife> {
        let (pass, states) = self.complete(&[Metric::JackknifeContrastiveLoss])?;
        let first_round = states.first().map(|tile| tile.first_round);
        if states
            .iter()
            .any(|tile| Some(tile.first_round) != first_round)
        {
            return Err(ShardError::NotThePlan {
                what: "the first round (tiles of shards given different cross-entropies)",
            }
            .into());
        }
        let tiles = states.into_iter().map(|state| state.tile).collect();
        let left_out = kernel::left_out_of(tiles, pass.shape).ok_or(ShardError::NotThePlan {
            what: "the size of a tile's state, or sums that no pass makes",
        })?;
        contrastive_from_left_out::<A, B>(left_out, Method::Jackknife)
    }
}
