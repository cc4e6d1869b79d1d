//! The tiles of retrieval: each tile's part of its rows' ranks and of its columns'.

use std::marker::PhantomData;
use std::ops::Range;

use super::tiles::sets;
use super::{Metric, Part, Pass, Plan, fingerprint_indices};
use crate::kernel::{self, Tiled};
use crate::metrics::retrieval::RetrievalRanks;
use crate::{Captioned, Modality, Result, Scalar, ShardError, UnitEmbeddings, check};

/// The state of one tile of the retrieval ranks (a range of rows against a panel of columns):
/// for each of its rows, the similarities in the panel that outrank the row's pair, and for
/// each of the panel's columns, those among the tile's rows that outrank the column's pair
/// (counts: they add up exactly in any grouping).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct RanksTile<A: Modality, B: Modality> {
    rows: Vec<u64>,
    cols: Vec<u64>,
    modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(RanksTile { rows, cols });

impl Plan {
    /// The plan of [`retrieval_ranks`](crate::retrieval_ranks)`(a, b)` (and so of
    /// [`retrieval_recall`](crate::retrieval_recall) for every K).
    ///
    /// # Errors
    ///
    /// As [`retrieval_ranks`](crate::retrieval_ranks).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, retrieval_ranks};
    ///
    /// let rows: Vec<[f32; 2]> = (0..60).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?.select(&(1..60).chain([0]).collect::<Vec<_>>())?)?;
    /// let plan = Plan::retrieval_ranks(&a, &b)?;
    /// let ranks = shard::retrieval_ranks(&plan, &a, &b, 0..plan.tiles())?.finish()?;
    /// assert_eq!(ranks, retrieval_ranks(&a, &b)?);
    /// assert_eq!(ranks.recall(5)?, modality_gap::retrieval_recall(&a, &b, 5)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn retrieval_ranks<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        let tile_pairs = kernel::tile_pairs(sets(a, b), Tiled::Ranks);
        Ok(Self {
            pass: ranks_pass(a, b, tile_pairs.len()),
            tile_pairs,
        })
    }
}

impl Plan {
    /// The plan of [`Captioned::retrieval_ranks`] (and so of
    /// [`Captioned::retrieval_recall`] for every K): the same tiles as
    /// [`Plan::retrieval_ranks`], each image against a panel of captions, with the positives of
    /// the COCO protocol.
    ///
    /// The plan holds a 64-bit fingerprint (FNV-1a) of the caption → image map, so that
    /// parts of two different groupings refuse to merge (short of a hash collision).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let rows: Vec<[f32; 2]> = (0..90).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let images = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows[..30])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let coco = Captioned::new(images, captions, (0..90).map(|j| j % 30).collect())?;
    /// let plan = Plan::captioned_retrieval_ranks(&coco);
    /// let ranks = shard::captioned_retrieval_ranks(&plan, &coco, 0..plan.tiles())?.finish()?;
    /// assert_eq!(ranks, coco.retrieval_ranks());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captioned_retrieval_ranks<T: Scalar, A: Modality, B: Modality>(
        captioned: &Captioned<T, A, B>,
    ) -> Self {
        let (images, captions) = (captioned.images(), captioned.captions());
        let tile_pairs = kernel::tile_pairs(sets(images, captions), Tiled::Ranks);
        Self {
            pass: captioned_ranks_pass(captioned, tile_pairs.len()),
            tile_pairs,
        }
    }
}

fn captioned_ranks_pass<T: Scalar, A: Modality, B: Modality>(
    captioned: &Captioned<T, A, B>,
    tiles: usize,
) -> Pass {
    let (images, captions) = (captioned.images(), captioned.captions());
    Pass {
        metric: Metric::CaptionedRetrievalRanks,
        shape: (images.len(), captions.len(), images.dim(), size_of::<T>()),
        parameter: 0,
        groups: fingerprint_indices(captioned.image_of()),
        tiles,
    }
}

/// The part of [`Captioned::retrieval_ranks`] over the tiles `tiles` of `plan`, made with
/// [`Plan::captioned_retrieval_ranks`]`(captioned)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss) (another grouping is another plan).
///
/// # Examples
///
/// See [`Plan::captioned_retrieval_ranks`].
pub fn captioned_retrieval_ranks<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    captioned: &Captioned<T, A, B>,
    tiles: Range<usize>,
) -> Result<Part<RanksTile<A, B>>> {
    plan.check_tiles(&tiles)?;
    plan.check_pass(captioned_ranks_pass(captioned, plan.tiles()))?;
    let (images, captions) = (captioned.images(), captioned.captions());
    let groups = Some(captioned.image_of());
    Ok(ranks_part(
        plan,
        kernel::rank_tiles(sets(images, captions), groups, tiles.clone()),
        tiles,
    ))
}

/// The part of a plan's tiles `tiles` from their counts.
fn ranks_part<A: Modality, B: Modality>(
    plan: &Plan,
    counts: Vec<(Vec<u64>, Vec<u64>)>,
    tiles: Range<usize>,
) -> Part<RanksTile<A, B>> {
    let states = counts
        .into_iter()
        .map(|(rows, cols)| RanksTile {
            rows,
            cols,
            modalities: PhantomData,
        })
        .collect();
    Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    }
}

fn ranks_pass<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: usize,
) -> Pass {
    Pass {
        metric: Metric::RetrievalRanks,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: 0,
        groups: 0,
        tiles,
    }
}

/// The part of [`retrieval_ranks`](crate::retrieval_ranks) over the tiles `tiles` of `plan`,
/// made with [`Plan::retrieval_ranks`]`(a, b)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::retrieval_ranks`].
pub fn retrieval_ranks<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<RanksTile<A, B>>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    plan.check_pass(ranks_pass(a, b, plan.tiles()))?;
    let counts = kernel::rank_tiles(sets(a, b), None, tiles.clone());
    Ok(ranks_part(plan, counts, tiles))
}

impl<A: Modality, B: Modality> Part<RanksTile<A, B>> {
    /// [`retrieval_ranks`](crate::retrieval_ranks) or [`Captioned::retrieval_ranks`] (as the
    /// plan), from every tile: the same ranks (each row's and each column's counts added up).
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile whose state has the wrong size or a rank no pass
    /// gives (a corrupted transfer).
    ///
    /// # Examples
    ///
    /// See [`Plan::retrieval_ranks`].
    pub fn finish(self) -> Result<RetrievalRanks> {
        let metrics = [Metric::RetrievalRanks, Metric::CaptionedRetrievalRanks];
        let (pass, states) = self.complete(&metrics)?;
        let (n, m, ..) = pass.shape;
        let tiles = states
            .into_iter()
            .map(|tile| (tile.rows, tile.cols))
            .collect();
        let (rows, cols) = kernel::ranks_of(tiles, pass.shape).ok_or_else(not_the_plan)?;
        let ranks = |ranks: &[u64], of: usize| ranks.iter().all(|&r| r < of as u64);
        if !ranks(&rows, m) || !ranks(&cols, n) {
            return Err(not_the_plan());
        }
        Ok(RetrievalRanks::new(rows, cols, (A::NAME, B::NAME)))
    }
}

/// A part whose tiles no plan of the ranks makes (a corrupted transfer).
fn not_the_plan() -> crate::Error {
    ShardError::NotThePlan {
        what: "the size of a tile's state, or a rank past the last",
    }
    .into()
}
