//! Pairwise passes cut into tiles that run anywhere (other threads, processes, machines) and
//! merge into the single-process result, bit for bit.
//!
//! A [`Plan`] cuts one metric's pass into tiles: the tasks the kernel itself cuts it into,
//! ranges of rows of A against every column of B (for one set with itself, a range from the
//! top and one from the bottom against the columns j > i, so that tiles do equal work). The
//! contrastive loss and the retrieval ranks, which keep a value per column in each of their
//! (at most 16) tasks, cut the columns too: each task against each panel of about 16384
//! columns. The cut depends only on the shapes and the element type, never on the number of
//! threads or of shards. [`Plan::shard`] gives each of any number of shards a contiguous range of tiles with
//! about equal pairs.
//!
//! Each shard computes a [`Part`] over its tiles, holding each tile's state: a log-sum-exp
//! ([`UniformTile`]), each row's log-sum-exp over the tile's panel and each column's over its
//! rows, with the target dot products the tile owns ([`ContrastiveTile`]), counts and moments
//! ([`HistogramTile`]), the top-k lists of its rows ([`TopKTile`]) or of its rows within
//! their own set for the k-NN alignments ([`NeighboursTile`]), its rows' and columns' counts
//! of outranking pairs ([`RanksTile`]), the d × d cross products of its rows behind a
//! spectrum ([`EffectiveRankTile`], [`IsoScoreTile`]) or a CKA or an SVCCA ([`CkaTile`],
//! [`SvccaTile`]), the sums of its chunks of rows ([`RowSumsTile`], [`AlignmentTile`],
//! [`RelativeGapTile`]), or, in the two rounds of the exact quantiles, its counts in fine bins
//! ([`QuantileCountsTile`]) and then its similarities in the bins of the asked order
//! statistics ([`QuantileValuesTile`], with the [`QuantileSelection`] of the first round),
//! or, for the batched validation loss, each of its whole batches' two cross-entropies
//! ([`BatchedContrastiveTile`]).
//! The standard errors of the O(n·d) metrics, of the uniformities and of the contrastive loss
//! have tiles of their own ([`JackknifeTile`], [`UniformJackknifeTile`],
//! [`ContrastiveJackknifeTile`]; see [`jackknife`]). The held-out
//! [`modality_separability`](crate::modality_separability), a logistic regression, is fitted
//! by a coordinator ([`SeparabilityFit`]) whose every Newton question is a round over the
//! tiles ([`SeparabilityTile`]).
//! [`Part::merge`] joins a
//! part to the next one in tile order (it keeps the tiles' states side by side, so merging is
//! exactly associative); `finish` combines the states of all tiles in tile order, exactly as
//! the single-process pass combines its tasks, so the value is the same bits as the metric's
//! ([`uniform_loss`](crate::uniform_loss),
//! [`cross_modal_uniformity`](crate::cross_modal_uniformity),
//! [`contrastive_loss`](crate::contrastive_loss),
//! [`contrastive_loss_with_targets`](crate::contrastive_loss_with_targets),
//! [`batched_contrastive_loss`](crate::batched_contrastive_loss),
//! [`CosineHistogram`](crate::CosineHistogram), [`top_k`](crate::top_k),
//! [`retrieval_ranks`](crate::retrieval_ranks),
//! [`Captioned::retrieval_ranks`](crate::Captioned::retrieval_ranks),
//! [`Captioned::contrastive_loss`](crate::Captioned::contrastive_loss), [`mutual_knn`](crate::mutual_knn),
//! [`cknna`](crate::cknna), [`align_loss`](crate::align_loss),
//! [`Captioned::align_loss`](crate::Captioned::align_loss),
//! [`raw::align_loss`](crate::raw::align_loss),
//! [`relative_gap`](crate::relative_gap),
//! [`Captioned::relative_gap`](crate::Captioned::relative_gap),
//! [`effective_rank`](crate::effective_rank),
//! [`isoscore`](crate::isoscore), [`cka`](crate::cka), [`svcca`](crate::svcca),
//! [`cosine_quantiles_within`](crate::cosine_quantiles_within),
//! [`cosine_quantiles_between`](crate::cosine_quantiles_between)) for any plan split, shard count and
//! merge grouping. With the cargo
//! feature `serde`, parts serialise, so that an MPI gather or any transport carries them.
//!
//! A part holds O(tiles) values for the uniformity, one value per row and column of each
//! tile for the contrastive loss and the retrieval ranks (16·m + n·m/16384 in all, with every
//! tile), O(tiles · bins) for a histogram, O(n · k) in all for the top-k lists, O(tiles · d²)
//! (CKA, SVCCA: (d_a + d_b)²) for the cross products (at most 16 tiles), and d + 1 values per
//! 2048-row chunk of each set for the row sums (and the relative gap, which also holds one per
//! chunk of pairs, as the alignment does), for the quantiles O(tiles · bins) counts, then
//! the similarities of the selected bins, and two values per batch for the batched loss.
//!
//! # Examples
//!
//! ```
//! use modality_gap::shard::{self, Plan};
//! use modality_gap::{Embeddings, Image, UnitEmbeddings, uniform_loss};
//!
//! let rows: Vec<[f64; 3]> = (0..600).map(|i| {
//!     let a = i as f64 * 0.37;
//!     [a.cos(), a.sin(), 0.3 * (2.0 * a).sin()]
//! }).collect();
//! let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
//! let plan = Plan::uniform_loss(&x, 2.0)?;
//! // Three shards (three MPI ranks, say), each over its own tiles ...
//! let parts = (0..3)
//!     .map(|rank| shard::uniform_loss(&plan, &x, plan.shard(rank, 3)?))
//!     .collect::<Result<Vec<_>, _>>()?;
//! // ... gathered and merged in rank order.
//! let mut parts = parts.into_iter();
//! let first = parts.next().unwrap();
//! let whole = parts.try_fold(first, |whole, part| whole.merge(part))?;
//! assert_eq!(whole.finish()?.to_bits(), uniform_loss(&x, 2.0)?.to_bits());
//! # Ok::<(), modality_gap::Error>(())
//! ```

/// `Clone`, `PartialEq` and `Debug` for the state of a tile of a pass between sets of
/// modalities A and B (named by a `PhantomData` field `modalities`), by hand: derives would ask
/// the modality markers for the traits too.
macro_rules! paired_tile_traits {
    ($tile:ident { $($field:ident),+ }) => {
        impl<A: $crate::Modality, B: $crate::Modality> Clone for $tile<A, B> {
            fn clone(&self) -> Self {
                Self {
                    $($field: self.$field.clone(),)+
                    modalities: ::std::marker::PhantomData,
                }
            }
        }

        impl<A: $crate::Modality, B: $crate::Modality> PartialEq for $tile<A, B> {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$field == other.$field)+
            }
        }

        impl<A: $crate::Modality, B: $crate::Modality> std::fmt::Debug for $tile<A, B> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($tile))
                    .field("modalities", &(A::NAME, B::NAME))
                    $(.field(stringify!($field), &self.$field))+
                    .finish()
            }
        }
    };
}

mod batched;
mod cka;
mod contrastive;
mod contrastive_jackknife;
pub mod jackknife;
mod neighbours;
mod quantiles;
mod ranks;
mod relative_gap;
mod separability;
mod spectra;
mod sums;
mod svcca;
mod tiles;
mod uniform_jackknife;

use std::ops::Range;

pub use batched::{BatchedContrastiveTile, batched_contrastive_loss};
pub use cka::{CkaTile, cka};
pub use contrastive::{
    ContrastiveTile, captioned_contrastive_loss, contrastive_loss, contrastive_loss_with_targets,
};
pub use contrastive_jackknife::{ContrastiveJackknifeTile, CrossEntropies};
pub use jackknife::JackknifeTile;
pub use neighbours::{NeighboursTile, neighbours};
pub use quantiles::{
    QuantileCountsTile, QuantileSelection, QuantileValuesTile, cosine_quantile_counts_between,
    cosine_quantile_counts_within, cosine_quantile_values_between, cosine_quantile_values_within,
};
pub use ranks::{RanksTile, captioned_retrieval_ranks, retrieval_ranks};
pub use relative_gap::{RelativeGapTile, captioned_relative_gap, relative_gap};
pub use separability::{
    SeparabilityFit, SeparabilityRound, SeparabilityTile, modality_separability,
};
pub use spectra::{EffectiveRankTile, IsoScoreTile, effective_rank, isoscore};
pub use sums::{AlignmentTile, RowSumsTile, align_loss, captioned_align_loss, row_sums};
pub use svcca::{SvccaTile, svcca};
pub use tiles::{
    HistogramTile, TopKTile, UniformTile, cosine_histogram_between, cosine_histogram_within,
    cross_modal_uniformity, top_k, uniform_loss,
};
pub use uniform_jackknife::UniformJackknifeTile;

use crate::metrics::distribution::bin_count;
use crate::metrics::quantiles::SELECT_BINS;
use crate::metrics::similarity::check_sets;
use crate::{Result, ShardError};

/// The [`fingerprint`] of a grouping's indices (or of any indices).
fn fingerprint_indices(indices: &[usize]) -> u64 {
    fingerprint(indices.iter().map(|&i| i as u64))
}

/// The 64-bit FNV-1a hash of words (a grouping's indices, the bits of sums), each as 8
/// little-endian bytes.
fn fingerprint(words: impl IntoIterator<Item = u64>) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let bytes = words.into_iter().flat_map(u64::to_le_bytes);
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Which metric's pass, on which shapes and parameter: what two parts must share to merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Pass {
    metric: Metric,
    /// Rows of A, rows of B, the dimension, and the element type's size in bytes.
    shape: (usize, usize, usize, usize),
    /// The bits of t, of the logit scale, of α, or the number of bins; for the second round
    /// of a jackknife, the bits of the first round's value (the gap's distance, the mean
    /// cosine, A's mean cosine for the relative gap).
    parameter: u64,
    /// For the metrics of images with several captions, a 64-bit fingerprint (FNV-1a) of the
    /// caption → image map, for the contrastive loss with targets, of the targets, and for
    /// the second round of the quantiles, of the bins it keeps, so that parts of two
    /// different maps refuse to merge; for the second round of a jackknife, the bits of the
    /// mean cosine's bias with the diagonal, or of B's mean cosine for the relative gap; for
    /// the batched contrastive loss, the batch size; else 0.
    groups: u64,
    /// The number of tiles.
    tiles: usize,
}

impl Pass {
    /// Whether a plan could have made this pass (a part deserialised from other bytes carries
    /// any pass): at least one tile and one row, column and dimension, an element of 4 or 8
    /// bytes, and a parameter in the metric's range.
    fn check(&self) -> Result<()> {
        let (n, m, d, element) = self.shape;
        let parameter = match self.metric {
            Metric::CosineHistogramWithin | Metric::CosineHistogramBetween => {
                usize::try_from(self.parameter).is_ok_and(|bins| bin_count(bins).is_ok())
            }
            Metric::QuantileCountsWithin
            | Metric::QuantileCountsBetween
            | Metric::QuantileValuesWithin
            | Metric::QuantileValuesBetween => self.parameter == SELECT_BINS as u64,
            Metric::TopK => self.parameter >= 1,
            Metric::UniformLoss
            | Metric::CrossModalUniformity
            | Metric::ContrastiveLoss
            | Metric::ContrastiveLossWithTargets
            | Metric::CaptionedContrastiveLoss
            | Metric::AlignLoss
            | Metric::CaptionedAlignLoss
            | Metric::JackknifeAlignLoss
            | Metric::JackknifeUniformLoss
            | Metric::JackknifeCrossModalUniformity
            | Metric::JackknifeContrastiveLoss
            | Metric::BatchedContrastiveLoss => {
                let value = f64::from_bits(self.parameter);
                value.is_finite() && value > 0.0
            }
            // The second rounds' values of the first: a distance, mean cosines, a bias.
            Metric::JackknifeGap => {
                let distance = f64::from_bits(self.parameter);
                distance.is_finite() && distance >= 0.0
            }
            Metric::JackknifeConeExcluded | Metric::JackknifeConeIncluded => {
                let cosine = (-1.0..=1.0).contains(&f64::from_bits(self.parameter));
                cosine
                    && (self.metric == Metric::JackknifeConeExcluded
                        || f64::from_bits(self.groups).is_finite())
            }
            Metric::JackknifeRelativeGap => [self.parameter, self.groups]
                .iter()
                .all(|&bits| (-1.0..=1.0).contains(&f64::from_bits(bits))),
            Metric::EffectiveRank | Metric::IsoScore => self.parameter < 4,
            // The fingerprint of a round of the fit.
            Metric::Separability => true,
            Metric::RowSums
            | Metric::RelativeGap
            | Metric::CaptionedRelativeGap
            | Metric::RetrievalRanks
            | Metric::CaptionedRetrievalRanks => self.parameter == 0,
            Metric::Cka => {
                let (estimator, d_b) = cka::estimator_and_dim(self.parameter);
                d_b >= 1 && check_sets(n, m, estimator).is_ok()
            }
            Metric::MutualKnn | Metric::Cknna => {
                neighbours::plausible(self.metric, (n, m), self.parameter)
            }
            Metric::Svcca => svcca::plausible((n, m, d), self.parameter),
        };
        // Shapes a plan of the metric makes: paired sets, and IsoScore over two or more
        // dimensions.
        let shaped = match self.metric {
            Metric::CrossModalUniformity
            | Metric::ContrastiveLoss
            | Metric::ContrastiveLossWithTargets
            | Metric::RetrievalRanks
            | Metric::AlignLoss => n == m,
            // Jackknives: at least two samples; three when pairs within a set are left out.
            Metric::JackknifeAlignLoss | Metric::JackknifeGap | Metric::JackknifeConeIncluded => {
                n == m && n >= 2
            }
            Metric::JackknifeConeExcluded
            | Metric::JackknifeRelativeGap
            | Metric::JackknifeUniformLoss
            | Metric::JackknifeCrossModalUniformity
            | Metric::JackknifeContrastiveLoss => n == m && n >= 3,
            // Pairs within each set.
            Metric::RelativeGap => n == m && n >= 2,
            // Every image has a caption.
            Metric::CaptionedRetrievalRanks
            | Metric::CaptionedContrastiveLoss
            | Metric::CaptionedAlignLoss => n <= m,
            // Pairs within each set too.
            Metric::CaptionedRelativeGap => n <= m && n >= 2,
            // One set, of at least one pair.
            Metric::QuantileCountsWithin | Metric::QuantileValuesWithin => n == m && n >= 2,
            Metric::IsoScore => d >= 2,
            // Each set has a training and a held-out sample.
            Metric::Separability => n >= 5 && m >= 5,
            // A batch size of 1 to n, and the tiles of its batches.
            Metric::BatchedContrastiveLoss => {
                let size = usize::try_from(self.groups).unwrap_or(0);
                n == m && (1..=n).contains(&size) && self.tiles == batched::tile_count(n, size)
            }
            _ => true,
        };
        // Only the metrics of images with several captions, and the loss with targets, have
        // a map of positives.
        let grouped = matches!(
            self.metric,
            Metric::CaptionedRetrievalRanks
                | Metric::CaptionedContrastiveLoss
                | Metric::CaptionedRelativeGap
                | Metric::CaptionedAlignLoss
                | Metric::ContrastiveLossWithTargets
                | Metric::QuantileValuesWithin
                | Metric::QuantileValuesBetween
                | Metric::JackknifeConeIncluded
                | Metric::JackknifeRelativeGap
                | Metric::BatchedContrastiveLoss
        );
        // Sets a plan was made of are in memory: no count of their bytes overflows.
        let addressable = |count: usize| {
            (count.checked_mul(element)).is_some_and(|bytes| bytes <= isize::MAX as usize)
        };
        let sized = shaped
            && (grouped || self.groups == 0)
            && self.tiles >= 1
            && n >= 1
            && m >= 1
            && d >= 1
            && matches!(element, 4 | 8)
            && addressable(n)
            && addressable(m)
            && addressable(d);
        if sized && parameter {
            Ok(())
        } else {
            Err(ShardError::NotThePlan {
                what: "the pass a part names (no plan makes it)",
            }
            .into())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Metric {
    UniformLoss,
    ContrastiveLoss,
    CosineHistogramWithin,
    CosineHistogramBetween,
    TopK,
    EffectiveRank,
    IsoScore,
    RowSums,
    RetrievalRanks,
    Cka,
    MutualKnn,
    Cknna,
    Svcca,
    CaptionedRetrievalRanks,
    CaptionedContrastiveLoss,
    CrossModalUniformity,
    ContrastiveLossWithTargets,
    AlignLoss,
    RelativeGap,
    CaptionedRelativeGap,
    QuantileCountsWithin,
    QuantileCountsBetween,
    QuantileValuesWithin,
    QuantileValuesBetween,
    JackknifeGap,
    JackknifeConeExcluded,
    JackknifeConeIncluded,
    JackknifeRelativeGap,
    JackknifeAlignLoss,
    JackknifeUniformLoss,
    JackknifeCrossModalUniformity,
    JackknifeContrastiveLoss,
    Separability,
    BatchedContrastiveLoss,
    CaptionedAlignLoss,
}

/// One metric's pass cut into tiles, with the pairs each tile visits.
///
/// Made from the embeddings and parameters of the pass ([`Plan::uniform_loss`],
/// [`Plan::cross_modal_uniformity`],
/// [`Plan::contrastive_loss`], [`Plan::contrastive_loss_with_targets`],
/// [`Plan::cosine_histogram_within`],
/// [`Plan::cosine_histogram_between`], [`Plan::top_k`], [`Plan::retrieval_ranks`],
/// [`Plan::captioned_retrieval_ranks`], [`Plan::captioned_contrastive_loss`],
/// [`Plan::mutual_knn`], [`Plan::cknna`],
/// [`Plan::effective_rank`], [`Plan::isoscore`], [`Plan::cka`], [`Plan::svcca`],
/// [`Plan::row_sums`], [`Plan::align_loss`], [`Plan::captioned_align_loss`],
/// [`Plan::relative_gap`],
/// [`Plan::captioned_relative_gap`], [`Plan::cosine_quantiles_within`],
/// [`Plan::cosine_quantiles_between`], [`Plan::modality_separability`],
/// [`Plan::batched_contrastive_loss`]); every
/// shard makes the
/// same plan from the same inputs.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::Plan;
/// use modality_gap::{Embeddings, Image, UnitEmbeddings};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&vec![[0.6, 0.8]; 3000])?)?;
/// let plan = Plan::uniform_loss(&x, 2.0)?;
/// assert_eq!(plan.pairs(0..plan.tiles()), 3000 * 2999 / 2);
/// let halves = [plan.shard(0, 2)?, plan.shard(1, 2)?];
/// assert_eq!((halves[0].start, halves[0].end, halves[1].end), (0, halves[1].start, plan.tiles()));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pass: Pass,
    tile_pairs: Vec<u64>,
}

impl Plan {
    /// The number of tiles.
    pub fn tiles(&self) -> usize {
        self.tile_pairs.len()
    }

    /// The pairs that the tiles `tiles` visit.
    ///
    /// # Panics
    ///
    /// If `tiles` reaches past the last tile.
    pub fn pairs(&self, tiles: Range<usize>) -> u64 {
        self.tile_pairs[tiles].iter().sum()
    }

    /// The tiles of shard `rank` of `shards`: contiguous, in rank order, covering every tile
    /// once, each shard's pairs as near to an equal share as whole tiles allow (a shard may get
    /// none when there are more shards than tiles).
    ///
    /// # Errors
    ///
    /// [`ShardError::Rank`] unless `rank` < `shards`.
    pub fn shard(&self, rank: usize, shards: usize) -> Result<Range<usize>> {
        if rank >= shards {
            return Err(ShardError::Rank { rank, shards }.into());
        }
        let total: u128 = self.tile_pairs.iter().map(|&p| u128::from(p)).sum();
        // Shard r starts at the first tile whose preceding pairs reach r/shards of the total.
        let start = |r: usize| -> usize {
            if r == shards {
                return self.tiles();
            }
            let target = total * r as u128;
            let mut before = 0u128;
            for (k, &p) in self.tile_pairs.iter().enumerate() {
                if before * shards as u128 >= target {
                    return k;
                }
                before += u128::from(p);
            }
            self.tiles()
        };
        Ok(start(rank)..start(rank + 1))
    }

    /// Checks that `tiles` is a range of this plan's tiles.
    fn check_tiles(&self, tiles: &Range<usize>) -> Result<()> {
        if tiles.start > tiles.end || tiles.end > self.tiles() {
            return Err(ShardError::Tiles {
                start: tiles.start,
                end: tiles.end,
                count: self.tiles(),
            }
            .into());
        }
        Ok(())
    }

    /// Checks that a part's inputs are the plan's.
    fn check_pass(&self, pass: Pass) -> Result<()> {
        if pass == self.pass {
            Ok(())
        } else {
            Err(ShardError::NotThePlan {
                what: "the metric, the shapes, the element type or the parameter",
            }
            .into())
        }
    }
}

/// The states of a range of consecutive tiles of one pass, each tile's kept apart.
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan};
/// use modality_gap::{Embeddings, Image, UnitEmbeddings};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&vec![[0.6, 0.8]; 40])?)?;
/// let plan = Plan::uniform_loss(&x, 2.0)?;
/// let all = shard::uniform_loss(&plan, &x, 0..plan.tiles())?;
/// assert_eq!(all.tiles(), 0..plan.tiles());
/// assert_eq!(all.finish()?, 0.0); // every pair coincides: log mean exp(0)
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Part<S> {
    pass: Pass,
    start: usize,
    states: Vec<S>,
}

impl<S> Part<S> {
    /// The tiles whose states this part holds.
    pub fn tiles(&self) -> Range<usize> {
        self.start..self.start.saturating_add(self.states.len())
    }

    /// This part and the `next` one, whose tiles start where this part's end.
    ///
    /// # Errors
    ///
    /// [`ShardError::DifferentPasses`] for parts of different passes,
    /// [`ShardError::OutOfOrder`] unless `next` starts where this part ends.
    pub fn merge(mut self, next: Self) -> Result<Self> {
        if self.pass != next.pass {
            return Err(ShardError::DifferentPasses.into());
        }
        if self.start.checked_add(self.states.len()) != Some(next.start) {
            return Err(ShardError::OutOfOrder {
                end: self.tiles().end,
                next_start: next.start,
            }
            .into());
        }
        self.states.extend(next.states);
        Ok(self)
    }

    /// The states of every tile, in order, with the pass (checked: a part may come from
    /// outside bytes), which must be of one of `metrics` (those whose tiles are `S`).
    fn complete(self, metrics: &[Metric]) -> Result<(Pass, Vec<S>)> {
        if !metrics.contains(&self.pass.metric) {
            return Err(ShardError::NotThePlan {
                what: "the metric (another metric's tiles)",
            }
            .into());
        }
        self.pass.check()?;
        if self.start != 0 || self.states.len() != self.pass.tiles {
            return Err(ShardError::Incomplete {
                start: self.start,
                end: self.tiles().end,
                count: self.pass.tiles,
            }
            .into());
        }
        Ok((self.pass, self.states))
    }
}
