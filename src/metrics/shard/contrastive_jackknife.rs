//! The jackknife of the contrastive loss over shards
//! ([`jackknife::contrastive_loss`](crate::jackknife::contrastive_loss)), in two rounds over
//! the tiles of [`Plan::contrastive_loss`].
//!
//! The in-memory jackknife takes two passes: the loss's own, which keeps every row's and
//! column's log-sum-exp, and a second that, given them, sums what leaving each sample out
//! takes from the other rows' and columns' log-sum-exps. Over shards, the first round is
//! [`shard::contrastive_loss`](super::contrastive_loss), merged and finished by
//! [`Part::cross_entropies`] into [`CrossEntropies`]: each row's and column's log-sum-exp
//! and cross-entropy, 32·n bytes (serialisable: broadcast them). Every shard is given them
//! and computes its tiles of the second pass ([`contrastive_loss`]): a tile holds two sums for
//! each of its rows and columns, and its few shares above 1/128 (a row or column has at most
//! 128). The merged second round, given the same cross-entropies, finishes into the in-memory
//! jackknife's value and deviations, to the bit.

use std::marker::PhantomData;
use std::ops::Range;

use super::contrastive::check_plan;
use super::tiles::sets;
use super::{Metric, Part, Pass, Plan, fingerprint};
use crate::kernel::{self, LeftOutTile};
use crate::metrics::contrastive::dot_bound;
use crate::metrics::jackknife::contrastive_from_left_out;
use crate::reduce::dot;
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
/// [`shard::contrastive_loss`](super::contrastive_loss), and given to every shard and to
/// the second round's `finish` ([`contrastive_loss`]). With the cargo feature `serde`
/// it serialises (an MPI broadcast); a deserialised one is checked where it is used.
///
/// # Examples
///
/// See [`contrastive_loss`].
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct CrossEntropies<A: Modality, B: Modality> {
    /// The pass of the first round's plan.
    pub(super) pass: Pass,
    pub(super) values: kernel::CrossEntropies,
    pub(super) modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(CrossEntropies { pass, values });

impl<A: Modality, B: Modality> CrossEntropies<A, B> {
    /// Checks that these are the first round of a plan of pass `pass` (as far as they can
    /// tell: a value per row and column, finite); gives their fingerprint (FNV-1a of their
    /// bits), which the second round's tiles carry.
    fn check(&self, pass: &Pass) -> Result<u64> {
        let values = &self.values;
        let (n, m, ..) = pass.shape;
        let sized = [&values.row_lse, &values.row_ce]
            .iter()
            .all(|v| v.len() == n)
            && [&values.col_lse, &values.col_ce]
                .iter()
                .all(|v| v.len() == m);
        let all = || {
            (values.row_lse.iter())
                .chain(&values.col_lse)
                .chain(&values.row_ce)
                .chain(&values.col_ce)
        };
        if self.pass != *pass || !sized || !all().all(|v| v.is_finite()) {
            return Err(ShardError::NotThePlan {
                what: "the first round (the cross-entropies of another plan)",
            }
            .into());
        }
        Ok(fingerprint(all().map(|v| v.to_bits())))
    }
}

/// The state of one tile of the second round of the contrastive loss's jackknife: for each
/// of its rows and of its panel's columns, Σ log(1 − p) over the shares p ≤ 1/128 that its
/// other samples hold of the row's (column's) log-sum-exp, the sum of its shares up to 3/4,
/// and its shares above 1/128; and a fingerprint of the first round it was given.
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
/// another plan, or one that is not the sets' (a row or column with more shares above 1/128
/// than 128, which log-sum-exps of its own rows cannot give); [`Error::InvalidParameter`]
/// for a temperature so low that a share of some row's or column's log-sum-exp may fall
/// below e^(−640): 2s·M + ln n > 640, for the logit scale s = 1/τ and M = max‖aᵢ‖·max‖bⱼ‖
/// (τ ≥ 1/300 always qualifies for unit rows, up to 10¹¹ pairs). The in-memory jackknife then
/// recomputes a row whose rest underflows by a pass of the row itself, which a merge of sums
/// cannot.
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
/// // shard is then given (an MPI broadcast of 32·n bytes).
/// let [first, second] = shards.clone().map(|tiles| shard::contrastive_loss(&plan, &a, &b, tiles));
/// let cross_entropies = first?.merge(second?)?.cross_entropies()?;
/// // Round 2: each shard's tiles of the second pass.
/// let [first, second] = shards.map(|tiles| {
///     shard::jackknife::contrastive_loss(&plan, &a, &b, &cross_entropies, tiles)
/// });
/// let jackknife = first?.merge(second?)?.finish(&cross_entropies)?;
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
    let first_round = first.check(&plan.pass)?;
    let dot_bound = dot_bound(a, b);
    let spread = 2.0 * scale * dot_bound + (a.len() as f64).ln();
    if spread > MAX_SPREAD {
        return Err(Error::InvalidParameter {
            name: "temperature",
            value: 1.0 / scale,
            requirement: "high enough that every share of a log-sum-exp exceeds e^(-640) \
                (2·max‖a‖·max‖b‖/τ + ln n ≤ 640; τ ≥ 1/300 for unit rows) for a sharded \
                jackknife",
        });
    }
    check_diagonal(scale, (a, b), &first.values)?;
    let bounds = (scale, dot_bound);
    let states = kernel::left_out_tiles(sets(a, b), bounds, &first.values, tiles.clone())
        .ok_or(ShardError::NotThePlan {
            what: "the first round (log-sum-exps that are not the sets')",
        })?
        .into_iter();
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

/// Checks that every row's and column's log-sum-exp is at least its own pair's logit
/// s·aᵢ·bᵢ, as a log-sum-exp over the row (column) is, to the exponentials' error (a relative
/// 1e-8 in f32; a hundredfold margin here). Then every exponent of the second pass is at most
/// 2s·M ≤ 640 and its exponential finite, and log-sum-exps of other sets make too many shares
/// large (which the tiles catch) rather than exponentials overflow.
fn check_diagonal<T: Scalar, A: Modality, B: Modality>(
    scale: f64,
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    values: &kernel::CrossEntropies,
) -> Result<()> {
    let logit = |i: usize| scale * dot(a.row(i), b.row(i));
    let at_least = |lse: &[f64]| {
        (lse.iter().enumerate()).all(|(i, &l)| l >= logit(i) - 1e-6 * (1.0 + l.abs()))
    };
    if at_least(&values.row_lse) && at_least(&values.col_lse) {
        Ok(())
    } else {
        Err(ShardError::NotThePlan {
            what: "the first round (a log-sum-exp below its own pair's logit)",
        }
        .into())
    }
}

impl<A: Modality, B: Modality> Part<ContrastiveJackknifeTile<A, B>> {
    /// The jackknife of [`contrastive_loss`](crate::contrastive_loss) from every tile of its
    /// second round and the first round `first` that every shard was given: the in-memory
    /// [`jackknife::contrastive_loss`](crate::jackknife::contrastive_loss)'s value and
    /// deviations, to the bit.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of shards given other cross-entropies than
    /// `first`, or whose states have the wrong size or sums that no pass makes (a corrupted
    /// transfer); as the in-memory jackknife.
    ///
    /// # Examples
    ///
    /// See [`contrastive_loss`].
    pub fn finish(self, first: &CrossEntropies<A, B>) -> Result<Jackknife> {
        let (pass, states) = self.complete(&[Metric::JackknifeContrastiveLoss])?;
        let first_round = first.check(&Pass {
            metric: Metric::ContrastiveLoss,
            ..pass
        })?;
        if states.iter().any(|tile| tile.first_round != first_round) {
            return Err(ShardError::NotThePlan {
                what: "the first round (tiles of shards given other cross-entropies)",
            }
            .into());
        }
        let tiles = states.into_iter().map(|state| state.tile).collect();
        let ce = (&first.values.row_ce[..], &first.values.col_ce[..]);
        let left_out =
            kernel::left_out_of(tiles, pass.shape, ce).ok_or(ShardError::NotThePlan {
                what: "the size of a tile's state, or sums that no pass makes",
            })?;
        contrastive_from_left_out::<A, B>(left_out, Method::Jackknife)
    }
}
