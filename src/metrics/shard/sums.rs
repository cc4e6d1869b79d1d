//! The tiles of the O(n·d) sums: [`RowSums`] (the centroid, the cone, the gap) and the
//! alignment loss over shards of rows, each tile a run of the 2048-row chunks the in-memory
//! sums add in order.

use std::marker::PhantomData;
use std::ops::Range;

use super::{Metric, Part, Pass, Plan, fingerprint_indices};
use crate::metrics::align::distance_power;
use crate::metrics::pairing::Pairing;
use crate::metrics::stream::{RowSums, squared_norm};
use crate::reduce::{CHUNK_ROWS, ChunkTotal, RowSum, chunk_sums, chunk_totals};
use crate::{Captioned, Embeddings, Modality, Result, Scalar, ShardError, UnitEmbeddings, check};

/// At most this many tiles of chunks.
const MAX_TILES: usize = 64;

/// The state of one tile of the row sums: Σ uᵢ and Σ ‖uᵢ‖² of each of its chunks of 2048 rows.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct RowSumsTile<T: Scalar, M: Modality> {
    chunks: Vec<(Vec<f64>, f64)>,
    rows: usize,
    values: PhantomData<fn() -> (T, M)>,
}

// By hand: derives would ask the markers for the traits too.
impl<T: Scalar, M: Modality> Clone for RowSumsTile<T, M> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            rows: self.rows,
            values: PhantomData,
        }
    }
}

impl<T: Scalar, M: Modality> PartialEq for RowSumsTile<T, M> {
    fn eq(&self, other: &Self) -> bool {
        (&self.chunks, self.rows) == (&other.chunks, other.rows)
    }
}

impl<T: Scalar, M: Modality> std::fmt::Debug for RowSumsTile<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowSumsTile")
            .field("rows", &self.rows)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

/// The state of one tile of the alignment loss: Σ ‖aᵢ − bᵢ‖^α over each of its chunks of 2048
/// pairs (for images with several captions, Σ ‖caption − its image‖^α over each chunk of
/// captions).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AlignmentTile {
    chunks: Vec<f64>,
    rows: usize,
}

impl Plan {
    /// The plan of [`align_loss`](crate::align_loss)`(a, b, alpha)`, or of
    /// [`raw::align_loss`](crate::raw::align_loss) on rows as they are (pass `&UnitEmbeddings`
    /// or `&Embeddings`): tiles of whole chunks of 2048 pairs, at most 64, as
    /// [`Plan::row_sums`].
    ///
    /// # Errors
    ///
    /// As [`align_loss`](crate::align_loss).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, align_loss};
    ///
    /// let rows: Vec<[f32; 2]> = (0..9000).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?.select(&(1..9000).chain([0]).collect::<Vec<_>>())?)?;
    /// let plan = Plan::align_loss(&a, &b, 2.0)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::align_loss(&plan, &a, &b, tiles));
    /// let value = first?.merge(second?)?.finish()?;
    /// assert_eq!(value.to_bits(), align_loss(&a, &b, 2.0)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        alpha: f64,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        let alpha = check::positive("alpha", alpha)?;
        Ok(Self::of_chunks(align_pass(a, b, alpha), a.len()))
    }

    /// The plan of [`Captioned::align_loss`]`(alpha)`: the mean over the captions of
    /// ‖caption − its image‖^α, in tiles of whole chunks of 2048 captions, at most 64.
    ///
    /// The plan holds a 64-bit fingerprint (FNV-1a) of the caption → image map, so that
    /// parts of two different groupings refuse to merge (short of a hash collision).
    ///
    /// # Errors
    ///
    /// As [`Captioned::align_loss`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let rows: Vec<[f32; 2]> = (0..9000).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let images = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows[..3000])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let coco = Captioned::new(images, captions, (0..9000).map(|j| j % 3000).collect())?;
    /// let plan = Plan::captioned_align_loss(&coco, 2.0)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::captioned_align_loss(&plan, &coco, tiles));
    /// let value = first?.merge(second?)?.finish()?;
    /// assert_eq!(value.to_bits(), coco.align_loss(2.0)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captioned_align_loss<T: Scalar, A: Modality, B: Modality>(
        captioned: &Captioned<T, A, B>,
        alpha: f64,
    ) -> Result<Self> {
        let alpha = check::positive("alpha", alpha)?;
        let pass = captioned_align_pass(captioned, alpha);
        Ok(Self::of_chunks(pass, captioned.captions().len()))
    }

    /// The plan of `pass` over n rows in tiles of whole chunks ([`tile_rows`]; its tiles
    /// counted here).
    pub(super) fn of_chunks(pass: Pass, n: usize) -> Self {
        let tile_rows: Vec<u64> = tile_rows(n)
            .into_iter()
            .map(|rows| rows.len() as u64)
            .collect();
        Self {
            pass: Pass {
                tiles: tile_rows.len(),
                ..pass
            },
            tile_pairs: tile_rows,
        }
    }
}

impl Plan {
    /// The plan of the row sums of `x` ([`RowSums`]: its centroid, its cone, its side of a
    /// gap): tiles of whole 2048-row chunks, at most 64.
    ///
    /// # Errors
    ///
    /// None today; a `Result` as every plan.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Diagonal, Embeddings, Image, UnitEmbeddings, mean_pairwise_cosine};
    ///
    /// let rows: Vec<[f32; 2]> = (0..9000).map(|i| [(i as f32).cos(), (i as f32).sin() + 1.0]).collect();
    /// let x = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let plan = Plan::row_sums(&x)?;
    /// let halves = [plan.shard(0, 2)?, plan.shard(1, 2)?].map(|tiles| shard::row_sums(&plan, &x, tiles));
    /// let [first, second] = halves;
    /// let sums = first?.merge(second?)?.finish()?;
    /// assert_eq!(sums.centroid()?, modality_gap::centroid(&x));
    /// assert_eq!(sums.mean_pairwise_cosine(Diagonal::Excluded)?, mean_pairwise_cosine(&x, Diagonal::Excluded)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn row_sums<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>) -> Result<Self> {
        Ok(Self::of_chunks(row_sums_pass(x, 0), x.len()))
    }
}

/// Σ uᵢ and Σ ‖uᵢ‖² over each 2048-row chunk of the rows `rows` of `x`, in order, as the
/// in-memory sums form them, letting each chunk's rows go once summed.
pub(super) fn row_chunk_sums<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    rows: &Range<usize>,
) -> Vec<(Vec<f64>, f64)> {
    let d = x.dim();
    chunk_sums(
        &x.as_slice()[rows.start * d..rows.end * d],
        d,
        squared_norm,
        |chunk| x.done_with(rows.start + chunk.start..rows.start + chunk.end),
    )
}

/// Σ f(a_gⱼ, bⱼ) over each 2048-pair chunk of the pairs of the rows `rows` of B with their
/// partners in A (gⱼ = j, or a caption's image), in order, as the in-memory means over pairs
/// form them, letting each chunk's rows go once summed.
pub(super) fn pair_chunk_totals<T: Scalar, A: Modality, B: Modality>(
    (a, b): (&Embeddings<T, A>, &Embeddings<T, B>),
    pairing: Pairing<'_>,
    rows: &Range<usize>,
    f: impl Fn(&[T], &[T]) -> f64 + Sync,
) -> Vec<f64> {
    let row = |j: usize| rows.start + j;
    chunk_totals(
        rows.len(),
        |j| f(a.row(pairing.partner(row(j))), b.row(row(j))),
        |chunk| pairing.done_with(a, b, row(chunk.start)..row(chunk.end)),
    )
}

/// Whether chunks' row sums could be those of rows of dimension d: d sums each, and a sum of
/// squared norms that is not negative.
pub(super) fn plausible(chunks: &[(Vec<f64>, f64)], d: usize) -> bool {
    (chunks.iter()).all(|(sum, squares)| sum.len() == d && *squares >= 0.0)
}

/// The row sums of chunks' sums added in order, as the in-memory sums add them; `None` unless
/// every total is finite, as the totals of finite rows are (forged sums could otherwise reach
/// ∞ − ∞ in a mean cosine).
pub(super) fn row_sum_of(
    d: usize,
    chunks: impl IntoIterator<Item = (Vec<f64>, f64)>,
) -> Option<RowSum> {
    let mut sums = RowSum::new(d);
    sums.add_chunks(chunks);
    let finite = sums.extras.is_finite() && sums.sum.iter().all(|s| s.is_finite());
    finite.then_some(sums)
}

/// Whether the tiles' (rows, chunks) are those of the plan's tiles `plan`, in order.
pub(super) fn laid_out(
    plan: &[Range<usize>],
    tiles: impl ExactSizeIterator<Item = (usize, usize)>,
) -> bool {
    plan.len() == tiles.len()
        && (plan.iter().zip(tiles))
            .all(|(want, (rows, chunks))| rows == want.len() && chunks == rows.div_ceil(CHUNK_ROWS))
}

/// The number of tiles of n rows: one per chunk, at most [`MAX_TILES`].
pub(super) fn tile_count(n: usize) -> usize {
    n.div_ceil(CHUNK_ROWS).clamp(1, MAX_TILES)
}

/// The rows of each of [`tile_count`]`(n)` tiles: runs of whole chunks, as even as whole
/// chunks allow.
pub(super) fn tile_rows(n: usize) -> Vec<Range<usize>> {
    tile_rows_in(n, tile_count(n))
}

/// The rows of each of `tiles` tiles (at most [`MAX_TILES`]) of n rows: runs of whole chunks,
/// as even as whole chunks allow, some empty when there are fewer chunks than tiles.
pub(super) fn tile_rows_in(n: usize, tiles: usize) -> Vec<Range<usize>> {
    debug_assert!((1..=MAX_TILES).contains(&tiles));
    let chunks = n.div_ceil(CHUNK_ROWS);
    let row = |k: usize| (k * chunks / tiles * CHUNK_ROWS).min(n);
    (0..tiles).map(|k| row(k)..row(k + 1)).collect()
}

pub(super) fn row_sums_pass<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    tiles: usize,
) -> Pass {
    Pass {
        metric: Metric::RowSums,
        shape: (x.len(), x.len(), x.dim(), size_of::<T>()),
        parameter: 0,
        groups: 0,
        tiles,
    }
}

/// The part of the row sums of `x` over the tiles `tiles` of `plan`, made with
/// [`Plan::row_sums`]`(x)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::row_sums`].
pub fn row_sums<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<RowSumsTile<T, M>>> {
    plan.check_tiles(&tiles)?;
    plan.check_pass(row_sums_pass(x, plan.tiles()))?;
    let states = tile_rows(x.len())[tiles.clone()]
        .iter()
        .map(|rows| RowSumsTile {
            chunks: row_chunk_sums(x, rows),
            rows: rows.len(),
            values: PhantomData,
        })
        .collect();
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

impl<T: Scalar, M: Modality> Part<RowSumsTile<T, M>> {
    /// The [`RowSums`] of every row: the chunks' sums added in order, as the in-memory sums
    /// add them, so its centroid, cone and gap are the in-memory bits. More rows may be added
    /// to it only when n is a multiple of 2048 (else its last chunk is partial:
    /// [`ShardError::PartialChunk`]).
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles whose rows or sums do not add up to the plan's.
    ///
    /// # Examples
    ///
    /// See [`Plan::row_sums`].
    pub fn finish(self) -> Result<RowSums<T, M>> {
        let (pass, states) = self.complete(&[Metric::RowSums])?;
        let (n, _, d, _) = pass.shape;
        let layout = states.iter().map(|tile| (tile.rows, tile.chunks.len()));
        let not_the_plan = ShardError::NotThePlan {
            what: "the rows or the sums of a tile",
        };
        let plausible = states.iter().all(|tile| plausible(&tile.chunks, d));
        if !laid_out(&tile_rows(n), layout) || !plausible {
            return Err(not_the_plan.into());
        }
        let sums = row_sum_of(d, states.into_iter().flat_map(|tile| tile.chunks));
        Ok(RowSums::of_totals(n, sums.ok_or(not_the_plan)?))
    }
}

pub(super) fn align_pass<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    alpha: f64,
) -> Pass {
    Pass {
        metric: Metric::AlignLoss,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: alpha.to_bits(),
        groups: 0,
        tiles: 0,
    }
}

/// The pass of [`Captioned::align_loss`] at `alpha` (its tiles not yet counted).
fn captioned_align_pass<T: Scalar, A: Modality, B: Modality>(
    captioned: &Captioned<T, A, B>,
    alpha: f64,
) -> Pass {
    Pass {
        metric: Metric::CaptionedAlignLoss,
        groups: fingerprint_indices(captioned.image_of()),
        ..align_pass(captioned.images(), captioned.captions(), alpha)
    }
}

/// The part of [`align_loss`](crate::align_loss) over the tiles `tiles` of `plan`, made with
/// [`Plan::align_loss`]`(a, b, alpha)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired; then as [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::align_loss`].
pub fn align_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<AlignmentTile>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    let alpha = f64::from_bits(plan.pass.parameter);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..align_pass(a, b, alpha)
    })?;
    Ok(alignment_part(plan, (a, b), Pairing::Rows, tiles))
}

/// The part of [`Captioned::align_loss`] over the tiles `tiles` of `plan`, made with
/// [`Plan::captioned_align_loss`]`(captioned, alpha)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss) (another grouping is another plan).
///
/// # Examples
///
/// See [`Plan::captioned_align_loss`].
pub fn captioned_align_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    captioned: &Captioned<T, A, B>,
    tiles: Range<usize>,
) -> Result<Part<AlignmentTile>> {
    plan.check_tiles(&tiles)?;
    let alpha = f64::from_bits(plan.pass.parameter);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..captioned_align_pass(captioned, alpha)
    })?;
    let sets = (captioned.images(), captioned.captions());
    let pairing = Pairing::Groups(captioned.image_of());
    Ok(alignment_part(plan, (sets.0, sets.1), pairing, tiles))
}

/// The states of the tiles `tiles` of an alignment's plan: each chunk's Σ ‖partner − bⱼ‖^α
/// over the rows j of B in the tile.
fn alignment_part<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    (a, b): (&Embeddings<T, A>, &Embeddings<T, B>),
    pairing: Pairing<'_>,
    tiles: Range<usize>,
) -> Part<AlignmentTile> {
    let power = distance_power::<T>(f64::from_bits(plan.pass.parameter));
    let states = tile_rows(b.len())[tiles.clone()]
        .iter()
        .map(|rows| AlignmentTile {
            chunks: pair_chunk_totals((a, b), pairing, rows, &power),
            rows: rows.len(),
        })
        .collect();
    Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    }
}

impl Part<AlignmentTile> {
    /// [`align_loss`](crate::align_loss) or [`Captioned::align_loss`] (as the plan), from
    /// every tile: the chunks' sums added in order, as the in-memory loss adds them, so the
    /// same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of other pairs than the plan's, or a negative sum
    /// (a corrupted transfer); as [`align_loss`](crate::align_loss).
    ///
    /// # Examples
    ///
    /// See [`Plan::align_loss`].
    pub fn finish(self) -> Result<f64> {
        let (pass, states) = self.complete(&[Metric::AlignLoss, Metric::CaptionedAlignLoss])?;
        // One pair per row of B (each caption with its image).
        let n = pass.shape.1;
        let layout = states.iter().map(|tile| (tile.rows, tile.chunks.len()));
        // Sums of powers of distances: never negative (NaN, as from raw f64 rows whose
        // difference overflows, goes on to the in-memory loss's `Overflow`).
        let plausible =
            (states.iter().flat_map(|tile| &tile.chunks)).all(|sum| sum.is_nan() || *sum >= 0.0);
        if !laid_out(&tile_rows(n), layout) || !plausible {
            return Err(ShardError::NotThePlan {
                what: "the pairs or the sums of a tile",
            }
            .into());
        }
        let mut sum = ChunkTotal::new();
        sum.add_chunks(states.into_iter().flat_map(|tile| tile.chunks));
        check::no_overflow("the alignment loss", sum.value() / n as f64)
    }
}
