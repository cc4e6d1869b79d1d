//! The tiles of the batched validation loss
//! ([`batched_contrastive_loss`](crate::batched_contrastive_loss)): runs of whole
//! batches, each batch's two cross-entropies kept apart.

use std::marker::PhantomData;
use std::ops::Range;

use super::{Metric, Part, Pass, Plan};
use crate::metrics::batched::{Batches, mean_over_batches};
use crate::{
    ContrastiveLoss, Modality, Result, Scalar, ShardError, Temperature, UnitEmbeddings, check,
};

/// About how many pairs a tile of the batched loss visits: whole batches, at least one.
const TILE_PAIRS: u64 = 1 << 22;

/// The state of one tile of the batched contrastive loss (a run of consecutive batches): each
/// batch's mean cross-entropy over its rows (a → b) and over its columns (b → a), in batch
/// order.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct BatchedContrastiveTile<A: Modality, B: Modality> {
    halves: Vec<(f64, f64)>,
    modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(BatchedContrastiveTile { halves });

/// The batches a tile of a batched loss of n pairs in batches of `size` holds, and the number
/// of batches n / size: whole batches of about [`TILE_PAIRS`] pairs in all, at least one.
fn batches_per_tile(n: usize, size: usize) -> (usize, usize) {
    let per_batch = (size as u128).pow(2);
    let per_tile = (u128::from(TILE_PAIRS) / per_batch).max(1);
    (usize::try_from(per_tile).unwrap_or(usize::MAX), n / size)
}

/// The batches of tile `tile`.
fn batches_of(tile: usize, (per_tile, batches): (usize, usize)) -> Range<usize> {
    let start = tile.saturating_mul(per_tile).min(batches);
    start..start.saturating_add(per_tile).min(batches)
}

impl Plan {
    /// The plan of
    /// [`batched_contrastive_loss`](crate::batched_contrastive_loss)`(a, b, temperature,
    /// batch_size)`: tiles of consecutive whole batches, about 2²² pairs each (one batch when
    /// a batch has more).
    ///
    /// # Errors
    ///
    /// As [`batched_contrastive_loss`](crate::batched_contrastive_loss).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Temperature, Text, UnitEmbeddings, batched_contrastive_loss};
    ///
    /// let rows = |phase: f32| -> Vec<[f32; 2]> {
    ///     (0..500).map(|i| [(i as f32 + phase).cos(), (i as f32 + phase).sin()]).collect()
    /// };
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows(0.0))?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows(0.1))?)?;
    /// // Batches of 50, as the validation curves of "Mind the Gap" (Fig. 3b–d).
    /// let plan = Plan::batched_contrastive_loss(&a, &b, Temperature::CLIP, 50)?;
    /// let parts = (0..2)
    ///     .map(|rank| shard::batched_contrastive_loss(&plan, &a, &b, plan.shard(rank, 2)?))
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// let [first, second] = <[_; 2]>::try_from(parts).unwrap();
    /// let loss = first.merge(second)?.finish()?;
    /// assert_eq!(loss, batched_contrastive_loss(&a, &b, Temperature::CLIP, 50)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn batched_contrastive_loss<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        temperature: Temperature,
        batch_size: usize,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        let size = check::at_least_one("batch_size", batch_size)?;
        check::at_least(size, a.len())?;
        let pass = batched_pass(a, b, temperature.logit_scale(), size);
        let cut = batches_per_tile(a.len(), size);
        let per_batch = (size as u64).saturating_mul(size as u64);
        let pairs = |tile: usize| (batches_of(tile, cut).len() as u64).saturating_mul(per_batch);
        let tile_pairs: Vec<u64> = (0..pass.tiles).map(pairs).collect();
        Ok(Self { pass, tile_pairs })
    }
}

/// The pass of the batched loss between `a` and `b` in batches of `size` pairs, at logit
/// scale `scale`.
fn batched_pass<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    scale: f64,
    size: usize,
) -> Pass {
    Pass {
        metric: Metric::BatchedContrastiveLoss,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: scale.to_bits(),
        groups: size as u64,
        tiles: tile_count(a.len(), size),
    }
}

/// The number of tiles of the batched loss of n pairs in batches of `size` (1 ≤ size ≤ n).
pub(super) fn tile_count(n: usize, size: usize) -> usize {
    let (per_tile, batches) = batches_per_tile(n, size);
    batches.div_ceil(per_tile)
}

/// The part of [`batched_contrastive_loss`](crate::batched_contrastive_loss) over the tiles
/// `tiles` of `plan`, made with [`Plan::batched_contrastive_loss`]`(a, b, temperature,
/// batch_size)`. Small batches run in parallel, as in memory.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired; then as [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::batched_contrastive_loss`].
pub fn batched_contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<BatchedContrastiveTile<A, B>>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    let (scale, size) = (f64::from_bits(plan.pass.parameter), plan.pass.groups);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size == 0 || size > a.len() {
        return Err(ShardError::NotThePlan {
            what: "the batch size",
        }
        .into());
    }
    plan.check_pass(batched_pass(a, b, scale, size))?;
    let cut = batches_per_tile(a.len(), size);
    let states = if tiles.is_empty() {
        Vec::new()
    } else {
        let count = batches_of(tiles.end, cut).start - batches_of(tiles.start, cut).start;
        let batches = Batches::new(a, b, scale, size, count);
        let tile = |tile| BatchedContrastiveTile {
            halves: batches.cross_entropies(batches_of(tile, cut)),
            modalities: PhantomData,
        };
        tiles.clone().map(tile).collect()
    };
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

impl<A: Modality, B: Modality> Part<BatchedContrastiveTile<A, B>> {
    /// [`batched_contrastive_loss`](crate::batched_contrastive_loss) from every tile: the
    /// same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile with another number of batches than the plan
    /// gives it (a corrupted transfer); as
    /// [`batched_contrastive_loss`](crate::batched_contrastive_loss), whose
    /// [`Error::Overflow`](crate::Error::Overflow) also stands for a cross-entropy that is not
    /// finite.
    ///
    /// # Examples
    ///
    /// See [`Plan::batched_contrastive_loss`].
    pub fn finish(self) -> Result<ContrastiveLoss> {
        let (pass, states) = self.complete(&[Metric::BatchedContrastiveLoss])?;
        // `Pass::check` holds the batch size to 1..=n.
        let cut = batches_per_tile(pass.shape.0, pass.groups as usize);
        let counted = |(tile, state): (usize, &BatchedContrastiveTile<A, B>)| {
            state.halves.len() == batches_of(tile, cut).len()
        };
        if !states.iter().enumerate().all(counted) {
            return Err(ShardError::NotThePlan {
                what: "the number of batches of a tile",
            }
            .into());
        }
        let halves = states.into_iter().flat_map(|state| state.halves);
        mean_over_batches(halves, (A::NAME, B::NAME))
    }
}
