//! The tiles of the relative modality gap, of row with row or of images with their captions:
//! runs of 2048-row chunks, each with the row sums of its chunks of both sets and the sums of
//! its pairs' cosines.

use std::ops::Range;

use super::sums::{
    laid_out, pair_chunk_totals, plausible, row_chunk_sums, row_sum_of, tile_count, tile_rows_in,
};
use super::{Metric, Part, Pass, Plan, fingerprint_indices};
use crate::metrics::cone::cone_from_sums;
use crate::metrics::pairing::Pairing;
use crate::reduce::{ChunkTotal, dot};
use crate::{
    Captioned, Diagonal, Modality, RelativeGap, Result, Scalar, ShardError, UnitEmbeddings, check,
};

/// The state of one tile of the relative gap: Σ aᵢ and Σ ‖aᵢ‖² over each of its chunks of
/// 2048 rows of A, the same of B, and Σ a_gⱼ·bⱼ over each chunk of its rows of B with their
/// partners (gⱼ = j, or caption j's image).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RelativeGapTile {
    a: Vec<(Vec<f64>, f64)>,
    b: Vec<(Vec<f64>, f64)>,
    matched: Vec<f64>,
    /// The tile's rows of A and of B.
    rows: (usize, usize),
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
        Ok(Self::of_chunks(relative_gap_pass((a, b), None), a.len()))
    }

    /// The plan of [`Captioned::relative_gap`]: tiles of whole chunks of 2048 captions, at
    /// most 64, each with a run of whole chunks of the images too (the images spread over as
    /// many tiles as the captions, some tiles without any when there are fewer). Each tile
    /// sums its images and its captions (the within-set terms, the images each once) and its
    /// captions' cosines with their images (the matched term).
    ///
    /// The plan holds a 64-bit fingerprint (FNV-1a) of the caption → image map, so that
    /// parts of two different groupings refuse to merge (short of a hash collision).
    ///
    /// # Errors
    ///
    /// As [`Captioned::relative_gap`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let rows: Vec<[f32; 3]> = (0..9000).map(|i| [(i as f32).cos(), (i as f32).sin(), 1.5]).collect();
    /// let images = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows[..1800])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let coco = Captioned::new(images, captions, (0..9000).map(|j| j % 1800).collect())?;
    /// let plan = Plan::captioned_relative_gap(&coco)?;
    /// let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::captioned_relative_gap(&plan, &coco, tiles));
    /// let rmg = first?.merge(second?)?.finish()?;
    /// assert_eq!(rmg, coco.relative_gap()?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captioned_relative_gap<T: Scalar, A: Modality, B: Modality>(
        captioned: &Captioned<T, A, B>,
    ) -> Result<Self> {
        let (images, captions) = (captioned.images(), captioned.captions());
        check::at_least(2, images.len())?;
        let pass = relative_gap_pass((images, captions), Some(captioned.image_of()));
        Ok(Self::of_chunks(pass, captions.len()))
    }
}

/// The pass of the relative gap of row with row, or (`image_of`) of images with their
/// captions.
fn relative_gap_pass<T: Scalar, A: Modality, B: Modality>(
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    image_of: Option<&[usize]>,
) -> Pass {
    Pass {
        metric: match image_of {
            None => Metric::RelativeGap,
            Some(_) => Metric::CaptionedRelativeGap,
        },
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: 0,
        groups: image_of.map_or(0, fingerprint_indices),
        tiles: tile_count(b.len()),
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
    plan.check_pass(relative_gap_pass((a, b), None))?;
    Ok(relative_gap_part(plan, (a, b), Pairing::Rows, tiles))
}

/// The part of [`Captioned::relative_gap`] over the tiles `tiles` of `plan`, made with
/// [`Plan::captioned_relative_gap`]`(captioned)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss) (another grouping is another plan).
///
/// # Examples
///
/// See [`Plan::captioned_relative_gap`].
pub fn captioned_relative_gap<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    captioned: &Captioned<T, A, B>,
    tiles: Range<usize>,
) -> Result<Part<RelativeGapTile>> {
    plan.check_tiles(&tiles)?;
    let (images, captions, image_of) = (
        captioned.images(),
        captioned.captions(),
        captioned.image_of(),
    );
    plan.check_pass(relative_gap_pass((images, captions), Some(image_of)))?;
    Ok(relative_gap_part(
        plan,
        (images, captions),
        Pairing::Groups(image_of),
        tiles,
    ))
}

/// The states of the tiles `tiles` of a relative gap's plan, checked to be of these sets.
fn relative_gap_part<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    pairing: Pairing<'_>,
    tiles: Range<usize>,
) -> Part<RelativeGapTile> {
    let (a_rows, b_rows) = (
        tile_rows_in(a.len(), plan.tiles()),
        tile_rows_in(b.len(), plan.tiles()),
    );
    let states = tiles
        .clone()
        .map(|k| RelativeGapTile {
            a: row_chunk_sums(a, &a_rows[k]),
            b: row_chunk_sums(b, &b_rows[k]),
            matched: pair_chunk_totals((a, b), pairing, &b_rows[k], dot),
            rows: (a_rows[k].len(), b_rows[k].len()),
        })
        .collect();
    Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    }
}

impl Part<RelativeGapTile> {
    /// [`relative_gap`](crate::relative_gap) or [`Captioned::relative_gap`], from every tile:
    /// each set's chunk sums added in order into its mean cosine between distinct rows, and
    /// the pairs' chunk sums into the mean matched cosine, as the in-memory metric adds them,
    /// so the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of other rows than the plan's, a negative sum of
    /// squared norms, or totals that are not finite (a corrupted transfer).
    ///
    /// # Examples
    ///
    /// See [`Plan::relative_gap`] and [`Plan::captioned_relative_gap`].
    pub fn finish(self) -> Result<RelativeGap> {
        let (pass, states) = self.complete(&[Metric::RelativeGap, Metric::CaptionedRelativeGap])?;
        let (n, m, d, _) = pass.shape;
        let not_the_plan = ShardError::NotThePlan {
            what: "the pairs or the sums of a tile",
        };
        // The plan's count of tiles (at most 64), before its tiles' rows are made.
        if states.len() != tile_count(m) {
            return Err(not_the_plan.into());
        }
        let (a_rows, b_rows) = (tile_rows_in(n, states.len()), tile_rows_in(m, states.len()));
        let laid_out = laid_out(&a_rows, states.iter().map(|t| (t.rows.0, t.a.len())))
            && laid_out(&b_rows, states.iter().map(|t| (t.rows.1, t.b.len())))
            && laid_out(&b_rows, states.iter().map(|t| (t.rows.1, t.matched.len())));
        let sums = states
            .iter()
            .all(|tile| plausible(&tile.a, d) && plausible(&tile.b, d));
        if !(laid_out && sums) {
            return Err(not_the_plan.into());
        }
        let mut matched = ChunkTotal::new();
        matched.add_chunks(states.iter().flat_map(|tile| tile.matched.iter().copied()));
        let within = |rows: usize, chunks: Vec<(Vec<f64>, f64)>| match row_sum_of(d, chunks) {
            Some(sums) => cone_from_sums(rows, &sums.sum, sums.extras, Diagonal::Excluded),
            None => Err(not_the_plan.clone().into()),
        };
        let (a, b): (Vec<_>, Vec<_>) = states.into_iter().map(|tile| (tile.a, tile.b)).unzip();
        let (within_a, within_b) = (
            within(n, a.into_iter().flatten().collect())?,
            within(m, b.into_iter().flatten().collect())?,
        );
        // Finite, as a mean of cosines of finite rows is.
        let matched = matched.value() / m as f64;
        if !matched.is_finite() {
            return Err(not_the_plan.into());
        }
        Ok(RelativeGap::from_cosines(matched, within_a, within_b))
    }
}
