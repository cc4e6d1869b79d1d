//! The jackknives of the uniformities over shards
//! ([`jackknife::uniform_loss`](super::jackknife::uniform_loss),
//! [`jackknife::cross_modal_uniformity`](super::jackknife::cross_modal_uniformity)), in one
//! round over the tiles of [`Plan::uniform_loss`] or [`Plan::cross_modal_uniformity`].
//!
//! Each sample's leave-one-out value needs its sum rᵢ of the potentials of every pair that
//! contains it, over every tile. The kernel adds the tasks' (the tiles') per-sample sums in a
//! fixed binary tree over the tiles: the sums of an aligned block of 2ʲ tiles are those of its
//! two halves. A shard keeps the sums of the largest aligned blocks of its own tiles (about
//! 2·log₂ of its tiles of them, at most, each of n values of each of two sums: 16·n bytes),
//! and `finish` joins the blocks of every part the same way: the value and every deviation
//! are the in-memory jackknife's, to the bit. [`Part::merge`] keeps the parts' blocks side by
//! side, so the rank that merges P parts holds up to about P·2·log₂(tiles/P) blocks before
//! `finish` joins them (an MPI gather of 8 parts of 10⁶ samples: about 80 blocks, 1.3 GB).

use std::ops::Range;

use super::tiles::{between_potential, total, within_potential};
use super::{Metric, Part, Pass, Plan};
use crate::kernel::{self, LogSumExp, SampleBlock, SampleSums, TaskTree};
use crate::metrics::jackknife::uniformity_from_shares;
use crate::metrics::uniform::Potential;
use crate::{Error, Jackknife, Modality, Result, Scalar, ShardError, UnitEmbeddings, check};

/// The state of one tile of the jackknife of a uniformity: the log-sum-exp of its pairs'
/// potentials and, on the first tile of each largest aligned block of a shard's tiles, the
/// block's size (log₂ of its tiles) and each sample's sums over it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UniformJackknifeTile {
    terms: LogSumExp,
    /// Every pair of the sets coincides (the value and every deviation are 0; no pass runs).
    coincides: bool,
    block: Option<(u32, SampleSums)>,
}

/// The part of [`jackknife::uniform_loss`](crate::jackknife::uniform_loss) over the tiles
/// `tiles` of `plan`, made with [`Plan::uniform_loss`]`(x, t)`.
///
/// # Errors
///
/// As [`shard::uniform_loss`](super::uniform_loss);
/// [`Error::TooFewSamples`] for n < 3; [`Error::InvalidParameter`] for a t so large that some
/// potential may fall below e^(−700), by the kernel's bound on every t·‖xᵢ − xⱼ‖²:
/// 2t·(max‖xᵢ − c‖² + max‖xⱼ − c‖²) > 700, c the mean row (t ≤ 43 always qualifies for unit
/// rows). The in-memory jackknife then takes a first pass for the largest potential, which
/// one round cannot.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, jackknife};
///
/// let rows: Vec<[f64; 3]> = (0..3000).map(|i| {
///     let a = i as f64 * 0.37;
///     [a.cos(), a.sin(), 0.3 * (2.0 * a).sin()]
/// }).collect();
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
/// let plan = Plan::uniform_loss(&x, 2.0)?;
/// // Three shards (three MPI ranks, say), merged in rank order.
/// let part = |rank| shard::jackknife::uniform_loss(&plan, &x, plan.shard(rank, 3)?);
/// let whole = part(0)?.merge(part(1)?)?.merge(part(2)?)?;
/// assert_eq!(whole.finish()?, jackknife::uniform_loss(&x, 2.0)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn uniform_loss<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<UniformJackknifeTile>> {
    let potential = within_potential(plan, x, &tiles)?;
    part(plan, Metric::JackknifeUniformLoss, &potential, tiles)
}

/// The part of [`jackknife::cross_modal_uniformity`](crate::jackknife::cross_modal_uniformity)
/// over the tiles `tiles` of `plan`, made with [`Plan::cross_modal_uniformity`]`(a, b, t)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`] or [`Error::DimensionMismatch`] for sets that are not paired;
/// then as [`uniform_loss`].
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, jackknife};
///
/// let rows = |phase: f32| -> Vec<[f32; 2]> {
///     (0..2000).map(|i| [(i as f32 * 0.1 + phase).cos(), (i as f32 * 0.1 + phase).sin()]).collect()
/// };
/// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows(0.0))?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows(0.5))?)?;
/// let plan = Plan::cross_modal_uniformity(&a, &b, 2.0)?;
/// let part = |rank| shard::jackknife::cross_modal_uniformity(&plan, &a, &b, plan.shard(rank, 2)?);
/// let whole = part(0)?.merge(part(1)?)?;
/// assert_eq!(whole.finish()?, jackknife::cross_modal_uniformity(&a, &b, 2.0)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<UniformJackknifeTile>> {
    let potential = between_potential(plan, a, b, &tiles)?;
    part(
        plan,
        Metric::JackknifeCrossModalUniformity,
        &potential,
        tiles,
    )
}

/// The states of the tiles `tiles` of `potential`'s pass, for the jackknife `metric`.
fn part(
    plan: &Plan,
    metric: Metric,
    potential: &Potential<'_>,
    tiles: Range<usize>,
) -> Result<Part<UniformJackknifeTile>> {
    check::at_least(3, potential.len())?;
    let coincides = potential.coincides();
    let (terms, blocks) = if coincides {
        // No pass: every sum is 0, still sent in blocks of n (what `finish` allocates is
        // what the part holds).
        let zeros = |start| SampleBlock {
            start,
            level: 0,
            sums: SampleSums {
                exps: vec![0.0; potential.len()],
                excesses: vec![0.0; potential.len()],
            },
        };
        let mut tree = TaskTree::default();
        tiles.clone().for_each(|tile| tree.push(zeros(tile)));
        (vec![LogSumExp::EMPTY; tiles.len()], tree.into_blocks())
    } else {
        potential
            .share_tiles(tiles.clone())
            .ok_or(Error::InvalidParameter {
                name: "t",
                value: f64::from_bits(plan.pass.parameter),
                requirement: "small enough that every potential exceeds e^(-700) \
                    (t ≤ 43 for unit rows) for a sharded jackknife",
            })?
    };
    let mut blocks = blocks.into_iter().peekable();
    let states = (tiles.clone().zip(terms))
        .map(|(tile, terms)| UniformJackknifeTile {
            terms,
            coincides,
            block: (blocks.next_if(|block| block.start == tile)).map(|b| (b.level, b.sums)),
        })
        .collect();
    Ok(Part {
        pass: Pass {
            metric,
            ..plan.pass
        },
        start: tiles.start,
        states,
    })
}

impl Part<UniformJackknifeTile> {
    /// The jackknife of [`uniform_loss`](crate::uniform_loss) or
    /// [`cross_modal_uniformity`](crate::cross_modal_uniformity) (as the plan) from every
    /// tile: the in-memory [`jackknife`](crate::jackknife)'s value and deviations, to the bit.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of inputs that disagree, or whose blocks of
    /// per-sample sums do not cover the tiles once in aligned blocks of n finite sums (a
    /// corrupted transfer); as the in-memory jackknife.
    ///
    /// # Examples
    ///
    /// See [`uniform_loss`].
    pub fn finish(self) -> Result<Jackknife> {
        let metrics = [
            Metric::JackknifeUniformLoss,
            Metric::JackknifeCrossModalUniformity,
        ];
        let (pass, mut states) = self.complete(&metrics)?;
        let n = pass.shape.0;
        let coincides = states.first().is_some_and(|tile| tile.coincides);
        let pairs = match pass.metric {
            Metric::JackknifeUniformLoss => n as u128 * (n as u128 - 1) / 2,
            _ => n as u128 * (n as u128 - 1),
        };
        let counts = states.iter().map(|tile| tile.terms.count());
        let pairs_visited = total(counts).map(u128::from);
        // One round sums every tile's terms under the shift 0 (a tile of no terms may keep
        // the empty sum's −∞).
        let shifted = |terms: LogSumExp| {
            terms.shift() == 0.0 || (terms.count() == 0 && terms.shift() == f64::NEG_INFINITY)
        };
        let sample_blocks = blocks(&mut states, n);
        let consistent = states.iter().all(|tile| tile.coincides == coincides)
            && states.iter().all(|tile| shifted(tile.terms))
            && pairs_visited == Some(if coincides { 0 } else { pairs });
        let (Some(sample_blocks), true) = (sample_blocks, consistent) else {
            return Err(ShardError::NotThePlan {
                what: "the embeddings of the tiles, the pairs they visit or their sums",
            }
            .into());
        };
        if coincides {
            return uniformity_from_shares(0.0, &vec![0.0; n]);
        }
        let terms = states.into_iter().map(|tile| tile.terms).collect();
        let (log_mean, shares) = kernel::gaussian_log_mean_and_shares_of(terms, sample_blocks);
        let quantity = match pass.metric {
            Metric::JackknifeUniformLoss => "the uniformity loss",
            _ => "the cross-modal uniformity",
        };
        uniformity_from_shares(check::no_overflow(quantity, log_mean)?, &shares)
    }
}

/// The blocks of per-sample sums taken from `states`, if they cover every tile once, each
/// aligned (its first tile a multiple of its size) and of n finite sums of each kind.
fn blocks(states: &mut [UniformJackknifeTile], n: usize) -> Option<Vec<SampleBlock>> {
    let tiles = states.len();
    let mut blocks = Vec::new();
    let mut next = 0;
    for (start, tile) in states.iter_mut().enumerate() {
        match tile.block.take() {
            Some((level, sums)) if start == next => {
                let size = 1usize.checked_shl(level).filter(|size| start % size == 0)?;
                next = start.checked_add(size).filter(|&end| end <= tiles)?;
                let finite = |sums: &[f64]| sums.len() == n && sums.iter().all(|v| v.is_finite());
                if !(finite(&sums.exps) && finite(&sums.excesses)) {
                    return None;
                }
                blocks.push(SampleBlock { start, level, sums });
            }
            None if start < next => {}
            _ => return None,
        }
    }
    (next == tiles).then_some(blocks)
}
